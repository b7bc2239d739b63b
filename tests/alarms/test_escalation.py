"""Escalation planning: steps in order, re-notification, acknowledgement stops it, all-clear, failures escalate;
never a skipped tier (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alarms.catalog import Priority
from alarms.escalation import DEFAULT_POLICY, EscalationPolicy, Escalator, PageRequest, Rule, Step
from alarms.model import AlarmEvent
from monitor.errors import ConfigError


def alarm(alarm_id: str = "a1", priority: str = "high", raised_at: float = 100.0, state: str = "active") -> dict:
    return {
        "id": alarm_id,
        "bed": "bed-1",
        "type": "desaturation",
        "priority": priority,
        "kind": "physiological",
        "state": state,
        "raised_at": raised_at,
        "onset": raised_at,
        "label": "Desat",
        "message": "SpO2 80 < 85 %",
    }


def ev(event: str, t: float, **kw: object) -> AlarmEvent:
    return AlarmEvent(event, t, alarm(**kw))  # type: ignore[arg-type]


def tiers(pages: list[PageRequest]) -> list[tuple[str, str, float]]:
    return [(p.tier, p.phase, p.t) for p in pages]


def test_high_pages_primary_at_once_and_charge_after_60s() -> None:
    esc = Escalator()
    assert tiers(esc.on_event(ev("raised", 100.0))) == [("primary", "start", 100.0)]
    assert esc.advance(159.9) == []
    assert sorted(tiers(esc.advance(160.5))) == [("charge", "escalate", 160.0), ("primary", "continue", 160.0)]


def test_medium_waits_30s_for_the_primary() -> None:
    esc = Escalator()
    assert esc.on_event(ev("raised", 100.0, priority="medium")) == []
    assert esc.advance(129.0) == []
    assert tiers(esc.advance(131.0)) == [("primary", "start", 130.0)]


def test_late_advance_still_pages_every_tier_in_order_stamped_when_due() -> None:
    esc = Escalator()
    esc.on_event(ev("raised", 100.0, priority="medium"))
    pages = esc.advance(1000.0)
    firsts = [p for p in pages if p.phase in ("start", "escalate")]
    assert tiers(firsts) == [("primary", "start", 130.0), ("charge", "escalate", 160.0)]
    assert len([p for p in pages if p.phase == "continue"]) <= 2  # one reminder per tier, not a flood


def test_acknowledge_stops_escalation_and_reminders_and_the_end_gives_the_all_clear() -> None:
    esc = Escalator()
    esc.on_event(ev("raised", 100.0))
    assert esc.on_event(ev("acknowledged", 110.0, state="acknowledged")) == []
    assert esc.advance(500.0) == []
    end = esc.on_event(ev("cleared", 600.0, state="cleared"))
    assert tiers(end) == [("primary", "end", 600.0)]
    assert esc.tracks == {}


def test_no_all_clear_for_an_alarm_that_paged_nobody() -> None:
    esc = Escalator()
    esc.on_event(ev("raised", 100.0, priority="medium"))
    assert esc.on_event(ev("cleared", 105.0, priority="medium", state="cleared")) == []


def test_failure_escalates_to_the_next_tier_once() -> None:
    esc = Escalator()
    (first,) = esc.on_event(ev("raised", 100.0))
    (up,) = esc.on_failed(first, 101.0, "hook: HTTP 503")
    assert (up.tier, up.phase, up.t) == ("charge", "escalate", 101.0) and "paging failed" in up.reason
    assert esc.on_failed(first, 102.0) == []  # charge already reached
    assert esc.on_failed(up, 103.0) == []  # no tier after charge
    assert [p.tier for p in esc.advance(160.0) if p.phase == "escalate"] == []  # not paged twice


def test_page_ids_are_unique_and_continue_after_restore() -> None:
    esc = Escalator()
    pages = esc.on_event(ev("raised", 100.0)) + esc.advance(200.0)
    again = Escalator()
    again.restore(alarm(), pages)
    more = again.advance(400.0) + again.on_event(ev("cleared", 401.0, state="cleared"))
    ids = [p.id for p in pages + more]
    assert len(ids) == len(set(ids))
    assert {p.tier for p in more if p.phase == "end"} == {"primary", "charge"}


def test_reactivated_latched_alarm_keeps_escalating() -> None:
    esc = Escalator()
    esc.on_event(ev("raised", 100.0))
    assert esc.on_event(ev("latched", 120.0, state="latched")) == []
    assert [p.tier for p in esc.advance(161.0) if p.phase == "escalate"] == ["charge"]


def test_policy_validation() -> None:
    with pytest.raises(ConfigError, match="back in time"):
        Rule((Step("primary", 30), Step("charge", 10)))
    with pytest.raises(ConfigError, match="twice"):
        Rule((Step("primary", 0), Step("primary", 10)))
    with pytest.raises(ConfigError, match="renotify"):
        Rule((Step("primary", 0),), renotify_s=1)


def test_page_json_round_trip() -> None:
    (page,) = Escalator().on_event(ev("raised", 100.0))
    assert PageRequest.from_json(page.to_json()) == page


# -- properties ---------------------------------------------------------------------------------------------
inputs = st.lists(
    st.tuples(
        st.sampled_from(["advance", "ack", "fail", "latch", "reactivate", "clear"]),
        st.floats(min_value=0, max_value=400, allow_nan=False),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    priority=st.sampled_from(["high", "medium", "low"]),
    steps=inputs,
    policy=st.sampled_from(
        [
            DEFAULT_POLICY,
            EscalationPolicy({p: Rule((Step("a", 0), Step("b", 0), Step("c", 10)), renotify_s=5) for p in Priority}),
        ]
    ),
)
def test_escalation_never_skips_a_tier(priority: str, steps: list[tuple[str, float]], policy: EscalationPolicy) -> None:
    esc = Escalator(policy)
    rule = policy.rule(priority)
    t = 100.0
    all_pages = esc.on_event(ev("raised", t, priority=priority))
    acknowledged = cleared = False
    for action, dt in steps:
        t += dt
        if cleared:
            break
        if action == "advance":
            pages = esc.advance(t)
        elif action == "ack":
            pages = esc.on_event(ev("acknowledged", t, priority=priority, state="acknowledged"))
            acknowledged = True
        elif action == "fail" and all_pages:
            pages = esc.on_failed(all_pages[-1], t)
        elif action == "latch":
            pages = esc.on_event(ev("latched", t, priority=priority, state="latched"))
        elif action == "reactivate" and not acknowledged:
            pages = esc.on_event(ev("reactivated", t, priority=priority))
        elif action == "clear":
            pages = esc.on_event(ev("cleared", t, priority=priority, state="cleared"))
            cleared = True
        else:
            pages = []
        if acknowledged:
            assert all(p.phase == "end" for p in pages), "paged after the acknowledgement"
        all_pages += pages
    first_reached = []
    for p in all_pages:
        if p.phase in ("start", "escalate") and p.tier not in first_reached:
            first_reached.append(p.tier)
    assert first_reached == [s.tier for s in rule.steps[: len(first_reached)]], "a tier was skipped"
    assert len({p.id for p in all_pages}) == len(all_pages)
    for p in all_pages:
        if p.phase in ("continue", "end"):
            assert p.tier in first_reached, "a reminder or all-clear to a tier never paged"
