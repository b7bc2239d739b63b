"""A simulated ward: bed ids, which scenario each bed follows, and each bed's seed.

``mixed`` is a ward of beds following different scenarios; bed ``i`` (1-based) gets
``MIXED_CYCLE[(i - 1) % 7]``: 1 stable, 2 ketamine-tachycardia, 3 midazolam-desaturation, 4 artifact,
5 bradycardia, 6 probe-off, 7 dropout, 8 stable again, and so on. Any other name gives every bed that
scenario. Bed ids are ``<prefix><i:02d>`` (``bed-01`` ... ``bed-128``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.errors import ConfigError
from simulators.messages import BED_ID_RE
from simulators.scenarios import Scenario, get_scenario, scenario_names

__all__ = ["MIXED_CYCLE", "WARD_MIXES", "BedPlan", "bed_id", "plan_ward", "ward_scenario_names"]

MIXED_CYCLE: tuple[str, ...] = (
    "stable",
    "ketamine-tachycardia",
    "midazolam-desaturation",
    "artifact",
    "bradycardia",
    "probe-off",
    "dropout",
)
WARD_MIXES: dict[str, tuple[str, ...]] = {"mixed": MIXED_CYCLE}


@dataclass(frozen=True, slots=True)
class BedPlan:
    """One bed of the ward."""

    index: int  # 1-based
    bed: str
    scenario: Scenario
    seed: int


def ward_scenario_names() -> list[str]:
    """Everything ``--scenario`` accepts: single-bed scenarios and ward mixes."""
    return [*scenario_names(), *WARD_MIXES]


def bed_id(index: int, prefix: str = "bed-") -> str:
    """Bed id of bed ``index`` (1-based): ``bed-01``."""
    bed = f"{prefix}{index:02d}"
    if not BED_ID_RE.fullmatch(bed):
        raise ConfigError(f"bad bed id {bed!r} (prefix {prefix!r}): must match [A-Za-z0-9_-]{{1,32}}")
    return bed


def plan_ward(
    beds: int,
    scenario: str,
    *,
    bed_prefix: str = "bed-",
    seed: int = 0,
    scenario_params: Mapping[str, float | None] | None = None,
) -> list[BedPlan]:
    """The beds of a ward running ``scenario`` (a scenario name or a mix such as ``mixed``).

    ``scenario_params`` (``onset_s``, ``ramp_s``, ``hold_s``, ``recover_s``, ``repeat_s``) override the
    timing of every bed. Each bed gets its own seed derived from ``seed`` and its index.
    """
    if not 1 <= beds <= 10_000:
        raise ConfigError(f"beds must be 1-10000, got {beds}")
    cycle = WARD_MIXES.get(scenario, (scenario,))
    plans = []
    for i in range(1, beds + 1):
        bed_seed = seed * 100_003 + i
        name = cycle[(i - 1) % len(cycle)]
        scenario_i = get_scenario(name, seed=bed_seed, params=scenario_params)
        plans.append(BedPlan(i, bed_id(i, bed_prefix), scenario_i, bed_seed))
    return plans
