"""Private Mosquitto brokers for tests.

    with private_mosquitto() as broker:      # free port on 127.0.0.1, waits until it accepts connections
        broker.url                           # "mqtt://127.0.0.1:PORT"
        broker.stop(); broker.start()        # same port again (broker-restart tests); or broker.restart()

``require_mosquitto()`` skips the calling test when ``mosquitto`` is not installed, unless the environment
variable ``CI`` is ``"true"``, in which case it fails the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MosquittoBroker", "free_port", "mosquitto_path", "private_mosquitto", "require_mosquitto"]


def mosquitto_path() -> str | None:
    """The mosquitto executable, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def require_mosquitto() -> str:
    """The mosquitto executable; skips the test if it is missing (fails it when ``CI=true``)."""
    import pytest

    path = mosquitto_path()
    if path is None:
        reason = "mosquitto is not installed (apt-get install -y mosquitto); needed for real-broker tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class MosquittoBroker:
    """A Mosquitto process on ``host:port`` with anonymous access and no persistence."""

    def __init__(
        self, port: int | None = None, *, host: str = "127.0.0.1", executable: str | None = None, extra_config: str = ""
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._executable = executable or mosquitto_path() or "mosquitto"
        self._dir = Path(tempfile.mkdtemp(prefix="wardwatch-mosquitto-"))
        self._extra = extra_config
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        path = self._dir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the broker accepts TCP connections."""
        if self.running:
            return
        config = self._dir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\nuser root\n{self._extra}\n"
        )
        with open(self._dir / "mosquitto.log", "ab") as log:
            self._process = subprocess.Popen([self._executable, "-c", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._process.returncode}:\n{self.log[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not accept connections on {self.host}:{self.port} within {timeout} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); the port can be reused by :meth:`start`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def restart(self, pause: float = 0.0) -> None:
        self.stop()
        time.sleep(pause)
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


@contextlib.contextmanager
def private_mosquitto(
    port: int | None = None, *, host: str = "127.0.0.1", executable: str | None = None, extra_config: str = ""
) -> Iterator[MosquittoBroker]:
    """A started private broker on a free port (or ``port``), stopped and cleaned up afterwards."""
    for attempt in range(3):  # a free port can be taken by someone else before mosquitto binds it
        broker = MosquittoBroker(port, host=host, executable=executable, extra_config=extra_config)
        try:
            broker.start()
            break
        except RuntimeError:
            broker.cleanup()
            if port is not None or attempt == 2:
                raise
    try:
        yield broker
    finally:
        broker.cleanup()
