"""Shared fixtures: small scenarios and finished runs, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.run import run_scenario
from tests.helpers import small


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def gozen_run(runs_dir) -> Path:
    """gozen-2021 (plain HTTP JSON), 3 homes, 2 hours."""
    out = runs_dir / "gozen"
    run_scenario(small(), out)
    return out


@pytest.fixture(scope="session")
def tls_run(runs_dir) -> Path:
    """The same homes with the SDK uploading gzip+aes inside TLS."""
    out = runs_dir / "tls"
    run_scenario(small(**{"tvs.sdk": {"transport": "tls", "encoding": "gzip+aes"}}), out)
    return out
