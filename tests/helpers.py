"""Helpers shared by tests (imported as ``tests.helpers``)."""

from __future__ import annotations

import os
import shutil
import signal
from types import ModuleType
from typing import Any

import pytest

from testbed.packets import speedups
from testbed.scenario import Scenario, load_scenario


def small(name: str = "gozen-2021", **overrides: Any) -> Scenario:
    """A shipped scenario shrunk for tests: few homes, a few hours."""
    base = {"households.count": 3, "duration": "2h"}
    base.update(overrides)
    return load_scenario(name, base)


def require_tshark() -> str:
    """tshark is installed by `.ci/run`; a missing one is a broken set-up, not a reason to skip."""
    path = shutil.which("tshark")
    if not path:
        pytest.fail("tshark is required (apt-get install tshark; .ci/run installs it)")
    return path


def require_speedups() -> ModuleType:
    """The compiled extension; where it was not built the test skips, except in CI (``CI=true`` or
    ``TESTBED_REQUIRE_SPEEDUPS=1``), where that is a failure: CI must test the fast path."""
    if speedups.native is None:
        if os.environ.get("CI") == "true" or os.environ.get("TESTBED_REQUIRE_SPEEDUPS") == "1":
            pytest.fail("the compiled extension testbed.packets._speedups was not built (is gcc installed?)")
        pytest.skip("the compiled extension was not built here; CI requires it")
    return speedups.native


def default_sigint() -> None:
    """``preexec_fn`` for a child that must take Ctrl-C: a shell starting a job in the background (``cmd &``,
    as a CI runner may) hands it SIGINT ignored, and the child would inherit that and never be
    interrupted. The tests of Ctrl-C handling give their child the default disposition back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
