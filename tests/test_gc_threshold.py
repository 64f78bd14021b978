"""The cyclic GC runs rarely inside a simulation or a detector pass, and the process gets its own
setting back, however the loop ends."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from testbed.detect import Capture, run_detectors
from testbed.detect.base import Detector, Watch
from testbed.gc_threshold import YOUNG_GC_THRESHOLD, fewer_collections
from testbed.packets import PcapngWriter, arp_request
from testbed.population import build_population
from testbed.sim.engine import shard_chunks, window_us
from tests.helpers import small


def test_the_threshold_is_raised_inside_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(KeyError), fewer_collections():
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
        raise KeyError("boom")
    assert gc.get_threshold() == before


def test_a_higher_setting_is_never_lowered() -> None:
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD * 2, *before[1:])
    try:
        with fewer_collections():
            assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD * 2
    finally:
        gc.set_threshold(*before)


def test_overlapping_blocks_restore_the_setting_when_the_last_one_ends() -> None:
    # As two shard tasks in the threads of one worker would: the first to start ends first.
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])  # the second still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def _chunks():
    scenario = small(duration="20m")
    households = build_population(scenario).households
    return shard_chunks(scenario, households, None, window_us(scenario, len(households)))


def test_a_simulation_collects_rarely_and_restores_the_threshold() -> None:
    before = gc.get_threshold()
    chunks = _chunks()
    next(chunks)
    assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
    assert sum(1 for _ in chunks) >= 1
    assert gc.get_threshold() == before


def test_an_abandoned_simulation_restores_the_threshold() -> None:
    before = gc.get_threshold()
    chunks = _chunks()
    next(chunks)
    chunks.close()  # a consumer that stops early (an error while writing, Ctrl-C)
    assert gc.get_threshold() == before


class _ThresholdProbe(Detector):
    """Records the young-generation threshold while it is fed frames."""

    name = "threshold-probe"
    seen: list[int] = []

    def watch(self) -> Watch:
        while (yield) is not None:
            self.seen.append(gc.get_threshold()[0])
        return []


def test_a_detector_pass_collects_rarely_and_restores_the_threshold(tmp_path: Path) -> None:
    path = tmp_path / "arp.pcapng"
    with PcapngWriter(path) as w:
        for k in range(3):
            w.write(1_700_000_000_000_000 + k, arp_request(b"\x02" * 6, bytes([10, 0, 0, 2]), bytes([10, 0, 0, 9 + k])))
    before = gc.get_threshold()
    _ThresholdProbe.seen = []
    run_detectors(Capture(path), [_ThresholdProbe()])
    assert _ThresholdProbe.seen == [YOUNG_GC_THRESHOLD] * 3
    assert gc.get_threshold() == before
