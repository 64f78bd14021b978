"""``truth/flows.csv`` is exactly what the csv module writes, whether rows take the direct path (fields that
never need quoting) or fall back to the csv writer, and events read back as written. (The simulation's
flows come as lines already: ``tests/truth/test_flow_log.py``.)"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.packets.encoded_frames import EncodedFrames
from testbed.rundir.truth_files import FLOW_COLUMNS, TruthFiles, read_events

# Epoch microseconds; Python's float division prints 8650029730622811 us as 8650029730.622810 (kept).
times = st.one_of(st.integers(0, 2**52), st.sampled_from([0, 999_999, 8_650_029_730_622_811, 2**53, 2**64]))
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


def _written(tmp: Path, chunks: list[list[tuple]]) -> str:
    files = TruthFiles(tmp / "events.jsonl", tmp / "flows.csv")
    for rows in chunks:
        files.write_flows(rows)
    files.close()
    assert files.flows == sum(map(len, chunks))
    return (tmp / "flows.csv").read_bytes().decode("utf-8")  # no newline translation: "\r" is data


@settings(max_examples=200, deadline=None)
@given(st.lists(rows_strategy, max_size=4))
def test_flow_rows_are_what_the_csv_module_writes(tmp_path_factory, chunks: list[list[tuple]]) -> None:
    assert _written(tmp_path_factory.mktemp("truth"), chunks) == _reference(chunks)


def test_plain_rows_and_rows_that_need_quoting(tmp_path: Path) -> None:
    plain = [("1:AbC+/d=", 1_638_316_800_123_456, 1_638_316_801_000_001, "192.168.1.23:50123", "192.168.1.1:53",
              "udp", "benign:dns", "")]
    odd = [("", 5, 6, "a,b", 'say "hi"', "x\ny", None, "r\rs")]
    text = _written(tmp_path, [plain, odd])
    assert text == _reference([plain, odd])
    assert "1638316800.123456,1638316801.000001,192.168.1.23:50123" in text
    assert '"a,b","say ""hi""","x\ny",,r\rs' in text  # csv quotes only the delimiter, quotes, "\n"


def test_lines_already_made_are_written_as_they_are(tmp_path: Path) -> None:
    files = TruthFiles(tmp_path / "events.jsonl", tmp_path / "flows.csv")
    files.write_flow_lines(EncodedFrames.from_raw((b"", b"", b"")))
    lines = b"1:a,0.000001,0.000002,a,b,arp,x,\n1:b,0.000003,0.000004,a,b,arp,x,e\n"
    files.write_flow_lines(EncodedFrames.from_raw(((1).to_bytes(8, "little") + (3).to_bytes(8, "little"),
                                                   (33).to_bytes(8, "little") + (len(lines)).to_bytes(8, "little"),
                                                   lines)))
    files.close()
    assert files.flows == 2
    assert (tmp_path / "flows.csv").read_bytes() == b"community_id,first_ts,last_ts,src,dst,proto,label,event_id\n" + lines


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
