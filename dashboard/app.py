"""Assembles the FastAPI app: routes live in their own modules; this file only wires them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from dashboard import alarm_api, api, auth_api, review_api, ws
from monitor import __version__
from monitor.errors import WardWatchError

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = ["create_app", "STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"


def create_app(station: Station) -> FastAPI:
    app = FastAPI(title="WardWatch", version=__version__, summary="Vital-signs central station and alarm service")
    app.state.station = station
    app.include_router(api.router)
    app.include_router(auth_api.router)
    app.include_router(alarm_api.router)
    app.include_router(review_api.router)
    app.include_router(ws.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def _revalidate_static(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-cache"  # an upgrade must not run stale modules
        return response

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(WardWatchError)
    async def _domain(_: Request, exc: WardWatchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app
