"""Real receivers for paging tests and benchmarks, each on a free port of 127.0.0.1, in its own thread.

    with HttpReceiver() as hook:          # records every POST (time.time() of arrival, headers, JSON body)
    with HttpReceiver(status=503) as bad: # a failing webhook
    with SmtpReceiver() as smtp:          # aiosmtpd; records envelopes
    with MllpReceiver() as am:            # parses each ORU^R40, answers an ACK (or ack_code="AE", or silent=True)

Each has ``.received`` (a list), ``wait(n, timeout)`` and the address to configure.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alarms import hl7

__all__ = ["Received", "HttpReceiver", "SmtpReceiver", "MllpReceiver", "closed_port"]


@dataclass
class Received:
    t: float
    body: Any
    meta: dict[str, Any] = field(default_factory=dict)


class _Base:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._cond = threading.Condition()

    def _add(self, item: Received) -> None:
        with self._cond:
            self.received.append(item)
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{type(self).__name__}: {len(self.received)} of {n} received in {timeout} s")
                self._cond.wait(left)
            return list(self.received)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class HttpReceiver(_Base):
    """A webhook receiver: answers ``status`` to every POST (after ``delay`` s)."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        super().__init__()
        self.status = status
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                t = time.time()
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver._add(Received(t, body, {"headers": dict(self.headers), "path": self.path, "raw": raw}))
                payload = b'{"ok": true}' if receiver.status < 300 else b'{"error": "unavailable"}'
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/pages"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SmtpReceiver(_Base):
    """aiosmtpd in its own thread; every accepted message is parsed with the stdlib email parser."""

    def __init__(self) -> None:
        super().__init__()
        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                msg = message_from_bytes(envelope.original_content or envelope.content)
                receiver._add(Received(time.time(), msg, {"from": envelope.mail_from, "to": list(envelope.rcpt_tos)}))
                return "250 Message accepted for delivery"

        self.port = _free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.host = "127.0.0.1"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class MllpReceiver(_Base):
    """An MLLP listener that parses every message as HL7 and answers an ACK with ``ack_code``
    (``silent=True``: never answers)."""

    def __init__(self, ack_code: str = "AA", silent: bool = False) -> None:
        super().__init__()
        self.ack_code = ack_code
        self.silent = silent
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                decoder = hl7.MllpDecoder()
                self.request.settimeout(10)
                while True:
                    try:
                        data = self.request.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    for raw in decoder.feed(data):
                        msg = hl7.parse_message(raw)
                        receiver._add(Received(time.time(), msg, {"raw": raw}))
                        if receiver.silent:
                            continue
                        self.request.sendall(
                            hl7.frame(
                                hl7.build_ack(msg, receiver.ack_code, "refused" if receiver.ack_code != "AA" else "")
                            )
                        )

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.host = "127.0.0.1"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (connection refused)."""
    return _free_port()
