"""The API fuzzed from its own OpenAPI document with schemathesis, in-process (``from_wsgi``).

The app runs as served (group commit, the ingest fast path) on a copy of a simulated run's database,
with the admin token, so the generated requests reach stored households (the document's examples are
the simulator's ids) as well as random ones, and some of them erase data. Schemathesis checks every
answer (no 5xx, documented status codes and content types, bodies matching the response schemas).
After at least ``MIN_REQUESTS`` requests the database must be intact and consistent.

Checks left out, and why:
- ``negative_data_rejection``: the API ignores unknown query parameters on purpose, and the fuzzer
  counts accepting them as a failure.
- ``positive_data_acceptance`` on uploads that are encoded (``application/octet-stream``, or an
  ``X-Payload-Encoding`` other than json): JSON Schema cannot say that the body must be a report with
  those layers applied, so such "valid per the schema" bodies are rightly refused (400).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from collector_mock import close_connections, create_app
from collector_mock.store import Store
from tests.collector.conftest import ADMIN, ADMIN_TOKEN

pytestmark = pytest.mark.slow

MIN_REQUESTS = 1000
EXAMPLES_PER_OPERATION = 75  # 19 operations: about 1400 requests, about 30 s on 2 cores


class _Fuzzed:
    """The app under test, built at collection time (schemathesis needs it to load the document)."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.app = None
        self.requests = 0

    def build(self, source: Path, workdir: Path) -> None:
        self.dir = workdir
        db = workdir / "collector.sqlite"
        shutil.copyfile(source, db)
        self.app = create_app(
            {"DATABASE": str(db), "ADMIN_TOKEN": ADMIN_TOKEN, "GROUP_COMMIT": True, "FAST_INGEST": True}
        )
        self.app.logger.disabled = False  # a 500 must show its traceback in the test output


FUZZED = _Fuzzed()


def _wsgi(environ, start_response):
    """Delegates to the app built from the session's simulated run (see the fixture below)."""
    assert FUZZED.app is not None, "the fuzzed app is built by the fuzzed_app fixture"
    return FUZZED.app(environ, start_response)


def _document_app():
    """A throwaway app that serves only the (static) OpenAPI document, for loading it at collection."""
    import tempfile

    return create_app({"DATABASE": str(Path(tempfile.mkdtemp()) / "openapi.sqlite")})


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@pytest.fixture(scope="module", autouse=True)
def fuzzed_app(sim_run: Path, tmp_path_factory):
    FUZZED.build(sim_run / "collector.sqlite", tmp_path_factory.mktemp("fuzz"))
    yield FUZZED
    close_connections(FUZZED.app)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_api(case) -> None:
    FUZZED.requests += 1
    excluded = [negative_data_rejection]
    encoding = (case.headers or {}).get("X-Payload-Encoding", "json")
    if case.media_type == "application/octet-stream" or encoding != "json":
        excluded.append(positive_data_acceptance)
    case.call_and_validate(app=_wsgi, headers=dict(ADMIN), excluded_checks=excluded)


def test_database_is_consistent_after_fuzzing(fuzzed_app: _Fuzzed) -> None:
    """Runs after the operations above (pytest keeps the file's order)."""
    assert fuzzed_app.requests >= MIN_REQUESTS, f"only {fuzzed_app.requests} requests were generated"
    close_connections(fuzzed_app.app)
    assert fuzzed_app.dir is not None
    store = Store.open(fuzzed_app.dir / "collector.sqlite")
    try:
        assert store.verify() == []
        # Something was stored by the fuzzer beside the run's reports, and erasures were logged.
        assert store.count_reports() > 0
    finally:
        store.close()
