"""The README's one command, as a new user meets it: `wardwatch demo` starts its own broker, simulated beds and
the station; a simulated tachycardia raises an alarm; the printed demo login acknowledges it; after the demo
stops, the recorded session is listed and replays with the same alarm."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", *args]


def test_demo_tachycardia_acknowledge_then_replay(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    demo = subprocess.Popen(
        cli("demo", "--port", "0", "--beds", "2", "--scenario", "ketamine-tachycardia", "--onset", "5",
            "--duration", "120", "--data-dir", str(data)),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    stdout = demo.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    try:
        url = login = None
        deadline = time.monotonic() + 60
        while (url is None or login is None) and time.monotonic() < deadline and demo.poll() is None:
            time.sleep(0.2)
            text = "".join(lines)
            if m := re.search(r"Nurse station:\s+(http://\S+?)/\s", text):
                url = m.group(1)
            if m := re.search(r"Demo login:\s+user '(\w+)', password '([^']+)'", text):
                login = (m.group(1), m.group(2))
        assert url and login, "".join(lines)
        with httpx.Client(base_url=url, timeout=5) as http:
            assert http.get("/api/health").json()["broker_connected"] is True
            alarm = None
            deadline = time.monotonic() + 90  # onset 5 s, the climb to > 120 bpm, the 5 s delay
            while alarm is None and time.monotonic() < deadline:
                active = http.get("/api/alarms", params={"state": "active"}).json()
                alarm = next((a for a in active if a["type"] == "tachycardia"), None)
                time.sleep(1.0)
            assert alarm is not None, "no tachycardia alarm within 90 s"
            # watching needs no login; acting does
            assert http.post(f"/api/alarms/{alarm['id']}/ack").status_code == 401
            assert http.post("/api/auth/login", json={"username": login[0], "password": login[1]}).status_code == 200
            acked = http.post(f"/api/alarms/{alarm['id']}/ack")
            assert acked.status_code == 200, acked.text
            assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledged_by"] == login[0]
    finally:
        demo.terminate()
        demo.wait(20)
        reader.join(5)
    assert f"Recordings:     {data}" in "".join(lines)  # where to find the session afterwards

    listed = subprocess.run(cli("sessions", "list", "--data-dir", str(data), "--json"), cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    sessions = json.loads(listed.stdout)
    session = next(s for s in sessions if s["bed"] == alarm["bed"])
    replay = subprocess.run(cli("replay", session["id"], "--data-dir", str(data), "--json"), cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(replay.stdout)
    assert any(a["type"] == "tachycardia" for a in result["alarms"]), result
    assert result["reproduces_live"] is True, result["comparison"]  # event for event, the acknowledgement included
