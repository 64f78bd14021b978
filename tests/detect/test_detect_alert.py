"""The alert record: validation, dict round-trip, JSON-lines files."""

from __future__ import annotations

import pytest

from testbed.detect import Alert, AlertFormatError, read_alerts, write_alerts


def _alert(**kw) -> Alert:
    base = dict(ts=1619107200.5, detector="x", category="scan", src_ip="192.168.1.5", src_mac=None,
                dst={"ip": "192.168.1.0/24"}, proto="arp", message="m")
    base.update(kw)
    return Alert(**base)


def test_round_trip_and_files(tmp_path):
    a = _alert(score=3.0, fields=["mac", "ip"], community_id="1:abc=")
    assert Alert.from_dict(a.to_dict()) == a
    b = _alert(category="exfil")
    assert "score" not in b.to_dict() and "fields" not in b.to_dict()
    path = tmp_path / "alerts.jsonl"
    assert write_alerts([a, b], path) == 2
    assert read_alerts(path) == [a, b]


@pytest.mark.parametrize("bad, needle", [
    ({"category": "spying"}, "category"),
    ({"src_ip": None, "src_mac": None}, "entity"),
    ({"dst": {"host": "x"}}, "dst"),
    ({"fields": ["password"]}, "fields"),
    ({"ts": float("nan")}, "ts"),
    ({"score": float("inf")}, "score"),
])
def test_invalid_alerts_name_the_field(bad, needle):
    with pytest.raises(AlertFormatError, match=needle):
        _alert(**bad)


def test_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"ts": 1, "detector": "x", "category": "scan", "src_ip": "1.2.3.4", "dst": {}, '
                    '"proto": "arp", "message": ""}\n{"ts": "soon"}\n')
    with pytest.raises(AlertFormatError, match=r"a\.jsonl:2"):
        read_alerts(path)
    path.write_text('{"ts": 1, "detector": "x", "category": "scan", "src_ip": "1.2.3.4", "dst": {}, '
                    '"proto": "arp", "message": "", "colour": "red"}\n')
    with pytest.raises(AlertFormatError, match="colour"):
        read_alerts(path)
