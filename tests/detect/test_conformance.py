"""The conformance suite over every registered detector."""

from __future__ import annotations

import pytest

from testbed.detect import REGISTRY, Capture, check_detector
from testbed.detect.conformance import CHECKS
from testbed.detect.frame import Frame

from .conftest import capture


@pytest.fixture(scope="module")
def small_capture(small_run) -> Capture:
    return capture(small_run)


@pytest.fixture(scope="module")
def small_train(small_benign_run) -> Capture:
    return capture(small_benign_run)


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_detectors_conform(name, check, small_capture, small_train):
    CHECKS[check](REGISTRY[name], small_capture, small_train)


def test_suite_catches_work_in_init(small_capture):
    from testbed.detect import Detector

    class Eager(Detector):
        name = "eager"

        def __init__(self, window: float = 1.0) -> None:
            self.window = window
            self.cache_ = {}

        def watch(self):
            while (yield) is not None:
                pass
            return []

    with pytest.raises(AssertionError, match="learned attributes"):
        check_detector(Eager, small_capture)


def test_suite_catches_truth_reads(small_capture, small_run):
    from testbed.detect import Detector

    class Cheater(Detector):
        name = "cheater"

        def watch(self):
            open(small_run / "truth" / "events.jsonl").close()
            while (f := (yield)) is not None:
                assert isinstance(f, Frame)
            return []

    with pytest.raises(AssertionError, match="opened ground truth"):
        CHECKS["never_reads_truth"](Cheater, small_capture, None)
