# WardWatch station image: `wardwatch serve` (monitor + dashboard) or `wardwatch simulate`.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY ingest ./ingest
COPY alarms ./alarms
COPY dashboard ./dashboard
COPY simulators ./simulators
COPY store ./store
RUN pip install --no-cache-dir . && useradd --system --home /data wardwatch && mkdir -p /data && chown wardwatch /data
USER wardwatch
WORKDIR /data
ENV WARDWATCH_HOST=0.0.0.0 WARDWATCH_PORT=8000 WARDWATCH_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health').status == 200 else 1)"
ENTRYPOINT ["wardwatch"]
CMD ["serve"]
