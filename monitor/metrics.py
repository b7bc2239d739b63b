"""A small Prometheus text-format registry: counters, gauges and histograms with labels.

Kept in-house (about a hundred lines) so the hot path is a dict increment and nothing else.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["Counter", "Gauge", "Histogram", "Metrics"]

Labels = tuple[tuple[str, str], ...]


def _fmt_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = labels + extra
    if not items:
        return ""
    body = ",".join(f'{k}="{v}"' for k, v in items)
    return "{" + body + "}"


@dataclass
class Counter:
    name: str
    help: str
    values: dict[Labels, float] = field(default_factory=lambda: defaultdict(float))

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self.values[tuple(sorted(labels.items()))] += amount

    def get(self, **labels: str) -> float:
        return self.values.get(tuple(sorted(labels.items())), 0.0)

    def total(self) -> float:
        return sum(self.values.values())

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_fmt_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return lines


@dataclass
class Gauge:
    name: str
    help: str
    value: float = 0.0

    def set(self, value: float) -> None:
        self.value = value

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge", f"{self.name} {self.value:g}"]


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            running += n
            lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self.count}')
        lines.append(f"{self.name}_sum {self.sum:.6f}")
        lines.append(f"{self.name}_count {self.count}")
        return lines


class Metrics:
    """Every metric WardWatch exports (see docs/api.md)."""

    def __init__(self) -> None:
        self.messages = Counter("wardwatch_messages_total", "valid messages ingested, by stream")
        self.invalid = Counter("wardwatch_messages_invalid_total", "messages rejected at the edge, by reason")
        self.dropped = Counter("wardwatch_messages_dropped_total", "valid messages dropped (duplicate, late)")
        self.gaps = Counter("wardwatch_gaps_total", "waveform gaps declared, by stream")
        self.alarms_raised = Counter("wardwatch_alarms_raised_total", "alarms raised, by type and priority")
        self.latency = Histogram("wardwatch_pipeline_latency_seconds", "message arrival to processed, events queued")
        self.transit = Histogram(
            "wardwatch_transit_seconds",
            "station arrival minus the device time of the message's last sample (network, broker, queues, clock skew)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.loop_lag = Histogram(
            "wardwatch_event_loop_lag_seconds",
            "how late a 50 ms timer fires on the station's event loop (anything blocking ingest shows here)",
        )
        self.beds = Gauge("wardwatch_beds", "beds known to the station")
        self.broker_connected = Gauge("wardwatch_broker_connected", "1 when the station is connected")
        self.ws_clients = Gauge("wardwatch_ws_clients", "websocket clients connected")
        self.ws_dropped = Counter("wardwatch_ws_frames_dropped_total", "frames not sent to slow clients, by type")
        self.ws_vitals_superseded = Counter(
            "wardwatch_ws_vitals_superseded_total",
            "bed vitals replaced by newer ones before a slow client was sent them (it gets the newer ones)",
        )

    def render(self) -> str:
        lines: list[str] = []
        for metric in (
            self.messages,
            self.invalid,
            self.dropped,
            self.gaps,
            self.alarms_raised,
            self.latency,
            self.transit,
            self.loop_lag,
            self.beds,
            self.broker_connected,
            self.ws_clients,
            self.ws_dropped,
            self.ws_vitals_superseded,
        ):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
