"""One simulated bedside monitor as a pure stream of contract messages, tick by tick.

:class:`BedStream` cuts scenario time into ticks of ``chunk_ms``. Tick ``k`` covers
``[k * chunk, (k + 1) * chunk)`` and yields the ECG chunk(s) and pleth chunk of that interval, the numerics
of every whole second that ends in it (1 Hz) and a status message whenever leads-off / probe-off changes.
Chunk boundaries are sample-exact (250 Hz x 250 ms alternates 62 and 63 samples), ``seq`` is the tick
index, ``ts`` the device clock (``start_ts`` + scenario time). While the scenario says the device is
offline, ticks still advance (the patient goes on) but carry no messages. No clock, no I/O: the publisher
(or a test, or a replay) decides when to call :meth:`BedStream.next_tick`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from monitor.errors import ConfigError
from simulators.device import DeviceModel, DeviceStatus
from simulators.messages import Message, numerics_message, status_message, topic, waveform_message, will_message
from simulators.physiology import Condition, Physiology, in_windows
from simulators.waveforms import LEADS, Waveforms

__all__ = ["BedConfig", "BedStream", "Tick"]


@dataclass(frozen=True, slots=True)
class BedConfig:
    """What one simulated monitor publishes, and how."""

    bed: str
    topic_root: str = "vitals"
    chunk_ms: int = 250
    ecg_fs: int = 250
    pleth_fs: int = 125
    leads: tuple[str, ...] = ("II",)
    waveform_qos: Literal[0, 1] = 0
    start_ts: float = 0.0  # device clock (Unix seconds) at scenario time 0
    leads_off_mode: Literal["flat", "rail"] = "flat"

    def __post_init__(self) -> None:
        topic(self.topic_root, self.bed, "status")  # validates root and bed id
        if not 100 <= self.chunk_ms <= 1000:
            raise ConfigError(f"chunk_ms must be 100-1000 (the contract expects 0.1-1 s chunks), got {self.chunk_ms}")
        unknown = [lead for lead in self.leads if lead not in LEADS]
        if unknown or not self.leads:
            raise ConfigError(f"unknown ECG lead(s) {unknown}; known: {', '.join(LEADS)}")
        if self.waveform_qos not in (0, 1):
            raise ConfigError(f"waveform_qos must be 0 or 1, got {self.waveform_qos}")
        if not math.isfinite(self.start_ts) or not 0 <= self.start_ts < 1e11:
            raise ConfigError(f"start_ts must be Unix seconds, got {self.start_ts}")


@dataclass(frozen=True, slots=True)
class Tick:
    """The messages of one chunk interval of scenario time ``[t0, t1)``."""

    index: int
    t0: float
    t1: float
    online: bool
    messages: tuple[Message, ...] = field(default=())


class BedStream:
    """Contract messages of one simulated bed, generated tick by tick."""

    def __init__(self, config: BedConfig, physiology: Physiology, seed: int) -> None:
        self.config = config
        self.physiology = physiology
        self._waves = Waveforms(
            physiology,
            seed,
            ecg_fs=config.ecg_fs,
            pleth_fs=config.pleth_fs,
            leads=config.leads,
            leads_off_mode=config.leads_off_mode,
        )
        self._device = DeviceModel(physiology, seed)
        self._index = 0
        self._status: DeviceStatus | None = None  # last status sent

    @property
    def tick_s(self) -> float:
        return self.config.chunk_ms / 1000.0

    @property
    def index(self) -> int:
        """Index of the next tick."""
        return self._index

    def tick_end(self, index: int) -> float:
        """Scenario time at which tick ``index`` is complete (its data can be sent)."""
        return (index + 1) * self.config.chunk_ms / 1000.0

    def online(self, t: float) -> bool:
        """Whether the device is connected at scenario time ``t``."""
        return not in_windows(self.physiology.windows(Condition.OFFLINE, t, t + 1e-9), t)

    def will(self) -> Message:
        return will_message(self.config.topic_root, self.config.bed)

    def connect_messages(self, t: float) -> list[Message]:
        """What the device publishes when it (re)connects at scenario time ``t``: full status, retained."""
        status = self._device.status(t)
        self._status = status
        cfg = self.config
        return [
            status_message(
                cfg.topic_root,
                cfg.bed,
                online=True,
                ts=cfg.start_ts + t,
                leads_off=status.leads_off,
                probe_off=status.probe_off,
            )
        ]

    def offline_message(self, t: float) -> Message:
        """What the device publishes when it stops monitoring on purpose (before a clean disconnect)."""
        return status_message(self.config.topic_root, self.config.bed, online=False, ts=self.config.start_ts + t)

    def next_tick(self, *, render: bool = True) -> Tick:
        """Advance one tick. With ``render=False`` the signals advance but no payload is built (catch-up)."""
        cfg = self.config
        k = self._index
        self._index += 1
        t0, t1 = k * cfg.chunk_ms / 1000.0, (k + 1) * cfg.chunk_ms / 1000.0
        e0, e1 = _bounds(k, cfg.chunk_ms, cfg.ecg_fs)
        p0, p1 = _bounds(k, cfg.chunk_ms, cfg.pleth_fs)
        ecg = self._waves.ecg.next(e1 - e0)
        pleth = self._waves.pleth.next(p1 - p0)
        online = self.online(t0)
        if not online or not render:
            return Tick(k, t0, t1, online)
        root, bed, ts0 = cfg.topic_root, cfg.bed, cfg.start_ts
        out: list[Message] = []
        status = self._device.status(t0)
        if status != self._status:
            self._status = status
            out.append(
                status_message(
                    root, bed, online=True, ts=ts0 + t0, leads_off=status.leads_off, probe_off=status.probe_off
                )
            )
        for lead in cfg.leads:
            out.append(
                waveform_message(
                    root,
                    bed,
                    "ecg",
                    ts=ts0 + e0 / cfg.ecg_fs,
                    fs=cfg.ecg_fs,
                    samples=ecg[lead],
                    seq=k,
                    lead=lead,
                    qos=cfg.waveform_qos,
                )
            )
        out.append(
            waveform_message(
                root,
                bed,
                "pleth",
                ts=ts0 + p0 / cfg.pleth_fs,
                fs=cfg.pleth_fs,
                samples=pleth,
                seq=k,
                qos=cfg.waveform_qos,
            )
        )
        for second in range(k * cfg.chunk_ms // 1000 + 1, (k + 1) * cfg.chunk_ms // 1000 + 1):  # 1 Hz
            n = self._device.numerics(float(second))
            out.append(numerics_message(root, bed, ts=ts0 + second, hr=n.hr, spo2=n.spo2, pr=n.pr))
        return Tick(k, t0, t1, online, tuple(out))


def _bounds(k: int, chunk_ms: int, fs: int) -> tuple[int, int]:
    """Sample range of tick ``k``: exact integer arithmetic, so ticks tile the signal without gaps."""
    return k * chunk_ms * fs // 1000, (k + 1) * chunk_ms * fs // 1000
