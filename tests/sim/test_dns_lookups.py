"""A device's background DNS: a stretch of lookups as one step, each at the time it would have had alone."""

from __future__ import annotations

import dataclasses
import random

import dpkt
import pytest

from testbed.benign import BenignContext
from testbed.benign.behaviours import DNS_STRETCH_S, dns
from testbed.benign.domains import BY_OS
from testbed.population import build_population
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import SimLan
from testbed.steps import DnsLookups, Sleep
from tests.helpers import small

MIDNIGHT = 1_619_049_600  # 2021-04-22 00:00 UTC, epoch seconds


@pytest.fixture(scope="module")
def household():
    return build_population(small(**{"households.count": 1})).households[0]


def _queries(frames: list[tuple[int, bytes]]) -> list[tuple[int, dpkt.dns.DNS, int]]:
    out = []
    for t, frame in frames:
        udp = dpkt.ethernet.Ethernet(frame).data.data
        message = dpkt.dns.DNS(udp.data)
        if message.qr == dpkt.dns.DNS_Q:
            out.append((t, message, udp.sport))
    return out


def test_each_lookup_starts_its_pause_after_the_previous_answer(household):
    lan = SimLan(household, 0.0, 1)
    executor = SimExecutor(lan, random.Random(1), None)
    phone = lan.by_id[household.devices[0].id]
    t0 = (MIDNIGHT + 12 * 3600) * 1_000_000
    step = DnsLookups(("a.example", "b.example", "c.example"), (2.5, 40.0))
    outcome = executor.perform(phone, step, t0)

    queries = _queries(outcome.frames)
    assert [m.qd[0].name for _, m, _ in queries] == ["a.example", "b.example", "c.example"]
    answers = [t for t, f in outcome.frames if dpkt.dns.DNS(dpkt.ethernet.Ethernet(f).data.data.data).qr]
    assert len(answers) == 3 and len(outcome.flows) == 3
    # The next query leaves the pause after the previous answer (and the resolver's 300 us).
    assert queries[0][0] == t0
    assert queries[1][0] == answers[0] + 300 + 2_500_000
    assert queries[2][0] == answers[1] + 300 + 40_000_000
    assert outcome.duration_us == answers[2] + 300 - t0
    assert all(49152 <= sport <= 65535 for _, _, sport in queries)
    assert len({sport for _, _, sport in queries}) == 3  # a fresh random port per query (RFC 5452)


def test_a_lookup_while_away_does_not_happen_but_its_pause_passes(household):
    device = dataclasses.replace(household.devices[0], away=((12.0, 13.0),))
    home = dataclasses.replace(household, devices=[device, *household.devices[1:]])
    lan = SimLan(home, 0.0, 1)
    executor = SimExecutor(lan, random.Random(1), None)
    phone = lan.by_id[device.id]
    t0 = (MIDNIGHT + 11 * 3600 + 3540) * 1_000_000  # 11:59, home; away from 12:00 to 13:00
    step = DnsLookups(("a.example", "b.example", "c.example"), (90.0, 3600.0))
    outcome = executor.perform(phone, step, t0)

    queries = _queries(outcome.frames)
    assert [m.qd[0].name for _, m, _ in queries] == ["a.example", "c.example"]  # b falls at 12:00:30
    answer_a = max(t for t, _ in outcome.frames if t < queries[1][0])
    asked_b = answer_a + 300 + 90_000_000
    assert queries[1][0] == asked_b + 3_600_000_000  # b took no time, its pause still passed
    assert len(outcome.flows) == 2


def test_the_behaviour_draws_the_same_stream_as_one_lookup_per_step(household):
    phone = next(d for d in household.devices if d.kind == "phone")  # a phone looks a name up every 120 s
    reference, rng = random.Random(7), random.Random(7)
    behaviour = dns(BenignContext(phone, household, rng, 0.0))
    start = next(behaviour)
    assert isinstance(start, Sleep) and start.seconds == reference.uniform(0.0, 300)
    names = BY_OS.get(phone.os, BY_OS["embedded"])
    for _ in range(3):
        step = behaviour.send(None)
        pause = behaviour.send(None)
        assert isinstance(step, DnsLookups) and isinstance(pause, Sleep)
        # One name and one pause drawn in turn, as the behaviour drew them when each lookup was a step.
        drawn = [(reference.choice(names), reference.expovariate(1 / 120)) for _ in step.names]
        assert list(step.names) == [name for name, _ in drawn]
        assert [*step.gaps, pause.seconds] == [gap for _, gap in drawn]
        assert sum(step.gaps) < DNS_STRETCH_S <= sum(step.gaps) + pause.seconds
        assert len(step.names) > 1


def test_names_and_gaps_must_agree():
    with pytest.raises(ValueError, match="DnsLookups: 2 items need 1 gaps, got 0"):
        DnsLookups(("a", "b"), ())
    with pytest.raises(ValueError, match="DnsLookups: 0 items need 0 gaps"):
        DnsLookups((), ())


def test_a_stretch_stops_at_the_end_of_the_run(household):
    lan = SimLan(household, 0.0, 1)
    t0 = (MIDNIGHT + 12 * 3600) * 1_000_000
    executor = SimExecutor(lan, random.Random(1), None, end_us=t0 + 60_000_000)
    phone = lan.by_id[household.devices[0].id]
    outcome = executor.perform(phone, DnsLookups(("a.example", "b.example", "c.example"), (30.0, 30.0)), t0)
    # c would start just after the end (two pauses and two lookups' time): it is a step begun after it.
    assert [m.qd[0].name for _, m, _ in _queries(outcome.frames)] == ["a.example", "b.example"]
