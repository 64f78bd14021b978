"""Steps that put their frames straight into the household's frame log (streaming sessions, a sweep's
who-has frames) leave there exactly what adding their ``Outcome.frames`` would have left, with the
same flows, counts and results."""

from __future__ import annotations

import random

import pytest

from testbed.packets.frame_log import PyFrameLog, new_frame_log
from testbed.population import build_population
from testbed.sim.executor import SimExecutor
from testbed.sim.lan import SimLan
from testbed.steps import HttpsSession, Sweep
from tests.helpers import require_speedups, small

T0 = 1_619_107_200_000_000  # epoch microseconds


@pytest.fixture(scope="module")
def household():
    return build_population(small(**{"households.count": 1})).households[0]


def _steps(household) -> list:
    subnet = SimLan(household, 0.0, 1).network
    return [HttpsSession("cdn.example-tv.com", 900, 81_000), Sweep(str(subnet)), HttpsSession("api.example.com", 300, 2_000)]


@pytest.mark.parametrize("log_kind", ["compiled", "pure"])
def test_logged_frames_are_what_the_outcomes_frames_give(household, log_kind):
    if log_kind == "compiled":
        require_speedups()
    log = new_frame_log() if log_kind == "compiled" else PyFrameLog()
    direct = SimExecutor(SimLan(household, 0.0, 1), random.Random(7), None, log=log)
    listed = SimExecutor(SimLan(household, 0.0, 1), random.Random(7), None)
    reference = PyFrameLog()
    tv = household.tvs[0].id
    for k, step in enumerate(_steps(household)):
        t = T0 + k * 60_000_000
        label = f"step-{k}"
        before = len(log)
        got = direct.perform(direct.lan.by_id[tv], step, t, label)
        want = listed.perform(listed.lan.by_id[tv], step, t, label)
        logged = len(log) - before
        assert logged > 0 and logged + len(got.frames) == len(want.frames)
        assert (got.result, got.duration_us, got.flows) == (want.result, want.duration_us, want.flows)
        log.add(got.frames, label)  # what the household adds after the step (a sweep's replies)
        reference.add(want.frames, label)
    assert log.take(0, True) == reference.take(0, True)
