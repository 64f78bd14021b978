"""Flow logs keep each flow as its line of ``truth/flows.csv``: the compiled log (with the Python line for rows
it turns down) and ``PyFlowLog`` give the bytes the csv module writes, merged across households by first time
as a stable sort would order them."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.truth.flow_log import PyFlowLog, add_odd_flow, flow_line, take_flow_lines
from tests.helpers import require_speedups

# Epoch microseconds: the compiled log formats them exactly below 2**32 s and leaves the others to Python,
# whose float division prints 8650029730622811 us as 8650029730.622810 (the reference, kept).
times = st.one_of(st.integers(0, 2**52), st.sampled_from([0, 999_999, 2**32 * 10**6 - 1, 2**32 * 10**6,
                                                          8_650_029_730_622_811, 2**53, 2**62]))
plain = st.text(st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)), max_size=10)
odd = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["a,b", 'say "hi"', "x\ny", "r\rs"]))
text = st.one_of(plain, plain, plain, odd)
port = st.one_of(st.integers(0, 65535), st.integers(0, 65535), st.sampled_from([-1, 65536, None]))
flows = st.tuples(text, times, times, text, port, text, port, st.sampled_from(["tcp", "udp", "icmp", "arp"]),
                  text, text)
households = st.lists(st.lists(flows, max_size=12), min_size=1, max_size=4)


def _csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for cid, first, last, src, sport, dst, dport, proto, label, event in rows:
        if proto in ("tcp", "udp"):
            src, dst = f"{src}:{sport}", f"{dst}:{dport}"
        writer.writerow((cid, f"{first / 1e6:.6f}", f"{last / 1e6:.6f}", src, dst, proto, label, event))
    return out.getvalue().encode("utf-8")


def _reference(homes: list[list[tuple]]) -> bytes:
    # A stable sort by first time of every flow, households in order, each in the order it was added.
    return _csv(sorted((f for home in homes for f in home), key=lambda f: f[1]))


def _compiled_logs(native, homes: list[list[tuple]]) -> list:
    logs = []
    for home in homes:
        log = native.FrameLog()
        for flow in home:
            before = len(log)
            if not log.add_flow(*flow):
                assert len(log) == before  # turned down: nothing added
                add_odd_flow(log, *flow)
        logs.append(log)
    return logs


@settings(max_examples=300, deadline=None)
@given(households)
def test_both_logs_write_what_the_csv_module_writes_in_first_time_order(homes: list[list[tuple]]) -> None:
    native = require_speedups()
    py_logs = []
    for home in homes:
        log = PyFlowLog()
        for flow in home:
            assert log.add_flow(*flow) is True
        py_logs.append(log)
    want = _reference(homes)
    compiled = take_flow_lines(_compiled_logs(native, homes))
    python = take_flow_lines(py_logs)
    assert compiled.blob == python.blob == want
    assert list(compiled.times) == list(python.times) == sorted(f[1] for home in homes for f in home)
    assert len(compiled) == len(python) == sum(map(len, homes))


def test_the_compiled_log_takes_plain_rows_itself_and_turns_down_the_others() -> None:
    native = require_speedups()
    log = native.FrameLog()
    base = ("1:AbC+/d=", 1_619_107_200_123_456, 1_619_107_200_223_456, "192.168.1.23", 50123, "192.168.1.1", 53,
            "udp", "benign:dns", "")
    assert log.add_flow(*base) is True
    assert log.add_flow(*base[:7], "icmp", "h1-tv1-c0001-probe", "h1-tv1-c0001-probe") is True  # no ports
    turned_down = [
        base[:3] + ("a,b",) + base[4:],  # a field the csv module quotes
        base[:8] + (None, ""),  # None: csv writes it empty
        base[:1] + (1.5,) + base[2:],  # a time that is no int
        base[:1] + (2**32 * 10**6,) + base[2:],  # a time where the float formatting rounds
        base[:4] + (65536,) + base[5:],  # a port out of range
    ]
    for flow in turned_down:
        assert log.add_flow(*flow) is False
    assert len(log) == 2
    icmp = base[:7] + ("icmp", "h1-tv1-c0001-probe", "h1-tv1-c0001-probe")
    assert take_flow_lines([log]).blob == _csv([base, icmp])  # one first time: the order they were added
    assert flow_line(*base) == "1:AbC+/d=,1619107200.123456,1619107200.223456,192.168.1.23:50123,192.168.1.1:53,"\
                               "udp,benign:dns,\n"


def test_bad_use_is_refused_by_both_logs() -> None:
    native = require_speedups()
    for log in (native.FrameLog(), PyFlowLog()):
        with pytest.raises(TypeError):
            log.add_flow("1:a", 1, 2)
        with pytest.raises(TypeError):
            log.add_raw(1.5, b"x\n")
        assert len(log) == 0
