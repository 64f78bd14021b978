"""The router's ARP refresh round: one step, each device asked in turn, at the times a paced router would."""

from __future__ import annotations

import random

import dpkt
import pytest

from testbed.benign import BenignContext
from testbed.benign.behaviours import router_arp
from testbed.population import build_population
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import SimLan
from testbed.steps import Host, RouterArp, Sleep
from tests.helpers import small

T0 = 1_619_107_200_000_000  # epoch microseconds


@pytest.fixture(scope="module")
def household():
    return build_population(small(**{"households.count": 1})).households[0]


def _arp(frame: bytes) -> dpkt.arp.ARP:
    eth = dpkt.ethernet.Ethernet(frame)
    assert isinstance(eth.data, dpkt.arp.ARP)
    return eth.data


def test_a_round_asks_each_device_in_turn_and_lasts_its_seconds_and_gaps(household):
    lan = SimLan(household, 0.0, 1)
    executor = SimExecutor(lan, random.Random(1), None)
    router = lan.by_id[household.router.id]
    devices = household.devices[:3]
    gaps = (0.5, 2.25)
    step = RouterArp(tuple(Host(d.ip, d.mac) for d in devices), gaps)
    outcome = executor.perform(router, step, T0)

    asked = [T0, T0 + 1_500_000, T0 + 1_500_000 + 3_250_000]  # each waits 1 s for its answer, then its gap
    assert outcome.duration_us == 1_500_000 + 3_250_000 + 1_000_000  # the last one waits its second
    requests = [(t, _arp(f)) for t, f in outcome.frames if _arp(f).op == dpkt.arp.ARP_OP_REQUEST]
    assert [t for t, _ in requests] == asked
    assert [dpkt.utils.inet_to_str(a.tpa) for _, a in requests] == [d.ip for d in devices]
    assert [f.dst for f in outcome.flows] == [d.ip for d in devices]
    assert [f.first_us for f in outcome.flows] == asked
    times = [t for t, _ in outcome.frames]
    assert times == sorted(times)
    for t, frame in outcome.frames:
        arp = _arp(frame)
        if arp.op == dpkt.arp.ARP_OP_REPLY:
            # An answer comes from the device asked last, within the second the router waits.
            k = max(i for i, a in enumerate(asked) if a <= t)
            assert dpkt.utils.inet_to_str(arp.spa) == devices[k].ip
            assert t - asked[k] < 1_000_000
            assert dpkt.utils.inet_to_str(arp.tpa) == household.router.ip


def test_gaps_must_match_targets():
    with pytest.raises(ValueError, match="RouterArp: 2 items need 1 gaps, got 2"):
        RouterArp((Host("192.168.1.2", "00:00:00:00:00:02"), Host("192.168.1.3", "00:00:00:00:00:03")), (1.0, 1.0))
    with pytest.raises(ValueError, match="RouterArp: 0 items need 0 gaps"):
        RouterArp((), ())


def test_the_behaviour_refreshes_every_device_once_per_round(household):
    ctx = BenignContext(household.router, household, random.Random(3), 0.0)
    behaviour = router_arp(ctx)
    assert isinstance(next(behaviour), Sleep)  # the start is spread
    for _ in range(3):
        step = behaviour.send(None)
        assert isinstance(step, RouterArp)
        assert [h.ip for h in step.targets] == [d.ip for d in household.devices]
        assert all(0.5 <= g <= 5.0 for g in step.gaps)
        last_gap, pause = behaviour.send(None), behaviour.send(None)  # after the last device, then the round's
        assert isinstance(last_gap, Sleep) and 0.5 <= last_gap.seconds <= 5.0
        assert isinstance(pause, Sleep) and 240 <= pause.seconds <= 600


def test_a_round_stops_at_the_end_of_the_run(household):
    lan = SimLan(household, 0.0, 1)
    executor = SimExecutor(lan, random.Random(1), None, end_us=T0 + 2_000_000)
    router = lan.by_id[household.router.id]
    devices = household.devices[:3]
    outcome = executor.perform(router, RouterArp(tuple(Host(d.ip, d.mac) for d in devices), (0.5, 0.5)), T0)
    assert [f.dst for f in outcome.flows] == [d.ip for d in devices[:2]]  # the third would ask at T0 + 3 s
