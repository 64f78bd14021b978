"""``truth/flows.csv`` is exactly what the csv module writes, whether a chunk takes a direct path (fields
that never need quoting: compiled, or in Python) or falls back to the csv writer."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets import speedups
from testbed.rundir.truth_files import FLOW_COLUMNS, TruthFiles, read_events
from tests.helpers import require_speedups

# Epoch microseconds: the compiled path formats them exactly below 2**32 s and leaves the others to Python,
# whose float division prints 8650029730622811 us as 8650029730.622810 (the reference, kept).
times = st.one_of(st.integers(0, 2**52), st.sampled_from([0, 999_999, 2**32 * 10**6 - 1, 2**32 * 10**6,
                                                          8_650_029_730_622_811, 2**53, 2**64]))
field = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "benign:dns", "h0001-tv1-c0003-upload"]))
rows_strategy = st.lists(
    st.tuples(field, times, times, field, field, field, field, field),
    max_size=20,
)


def _reference(chunks: list[list[tuple]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FLOW_COLUMNS)
    for rows in chunks:
        writer.writerows((cid, f"{a / 1e6:.6f}", f"{b / 1e6:.6f}", *rest) for cid, a, b, *rest in rows)
    return out.getvalue()


def _written(tmp: Path, chunks: list[list[tuple]], compiled: bool) -> str:
    native = speedups.native
    speedups.native = native if compiled else None
    try:
        files = TruthFiles(tmp / "events.jsonl", tmp / "flows.csv")
        for rows in chunks:
            files.write_flows(rows)
        files.close()
    finally:
        speedups.native = native
    assert files.flows == sum(map(len, chunks))
    return (tmp / "flows.csv").read_bytes().decode("utf-8")  # no newline translation: "\r" is data


@settings(max_examples=200, deadline=None)
@given(st.lists(rows_strategy, max_size=4))
def test_flow_rows_are_what_the_csv_module_writes(tmp_path_factory, chunks: list[list[tuple]]) -> None:
    require_speedups()
    for compiled in (True, False):
        assert _written(tmp_path_factory.mktemp("truth"), chunks, compiled) == _reference(chunks), compiled


plain_field = st.text(st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(plain_field, times, times, plain_field, plain_field, plain_field, plain_field,
                          plain_field), max_size=20))
def test_plain_rows_in_range_take_the_compiled_path(rows: list[tuple]) -> None:
    native = require_speedups()
    got = native.flow_lines(rows)
    if all(t < 2**32 * 10**6 for row in rows for t in row[1:3]):
        assert got == _reference([rows]).split("\n", 1)[1]
    else:
        assert got is None


def test_plain_rows_and_rows_that_need_quoting(tmp_path: Path) -> None:
    native = require_speedups()
    plain = [("1:AbC+/d=", 1_638_316_800_123_456, 1_638_316_801_000_001, "192.168.1.23:50123", "192.168.1.1:53",
              "udp", "benign:dns", "")]
    odd = [("", 5, 6, "a,b", 'say "hi"', "x\ny", None, "r\rs")]
    assert native.flow_lines(plain) == _reference([plain]).split("\n", 1)[1]
    for row in (*odd, (*plain[0][:1], 1.5, *plain[0][2:]), plain[0][:7], (*plain[0][:3], "a,b", *plain[0][4:])):
        assert native.flow_lines(plain + [row]) is None  # not plain: the caller's own path takes them all
    text = _written(tmp_path, [plain, odd], True)
    assert text == _reference([plain, odd])
    with pytest.raises(TypeError, match="rows must be a list, not tuple"):
        native.flow_lines(tuple(plain))
    assert "1638316800.123456,1638316801.000001,192.168.1.23:50123" in text
    assert '"a,b","say ""hi""","x\ny",,r\rs' in text  # csv quotes only the delimiter, quotes, "\n"


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
              st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=6), max_size=5), max_size=4))
def test_events_read_back_as_written(tmp_path_factory, chunks: list[list[dict]]) -> None:
    tmp = tmp_path_factory.mktemp("truth")
    files = TruthFiles(tmp / "events.jsonl", tmp / "flows.csv")
    for events in chunks:
        files.write_events(events)
    files.close()
    assert files.events == sum(map(len, chunks))
    assert read_events(tmp / "events.jsonl") == [e for events in chunks for e in events]  # floats exactly
    text = (tmp / "events.jsonl").read_text(encoding="utf-8")
    assert text.count("\n") == files.events  # one line per event: line breaks inside strings are escaped
