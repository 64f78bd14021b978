"""The command adapter, with the shipped tshark example and with failing programs."""

from __future__ import annotations

import sys

import pytest

from testbed.detect import DetectorError, make_detector
from testbed.detect.command import CommandDetector
from tests.helpers import require_tshark

from .conftest import capture, tv_ips


def test_tshark_example(plain_run, benign_run):
    require_tshark()
    alerts = make_detector("command").detect(capture(plain_run))
    assert alerts and {a.detector for a in alerts} == {"tshark-dns"}
    tracking = [a for a in alerts if a.category == "tracking"]
    assert {a.dst["domain"] for a in tracking} == {"gz-data.com"}
    assert {a.src_ip for a in tracking} == tv_ips(plain_run)
    assert [a for a in make_detector("command").detect(capture(benign_run)) if a.category == "tracking"] == []


def _script(tmp_path, body: str) -> str:
    path = tmp_path / "prog.py"
    path.write_text("import sys\n" + body)
    return f'command,cmd="{sys.executable} {path} {{pcap}} {{out}}"'


def test_program_gets_a_label_free_pcap(plain_run, tmp_path):
    spec = _script(tmp_path, (
        "data = open(sys.argv[1], 'rb').read()\n"
        "assert data[:4] == bytes.fromhex('d4c3b2a1') and b'benign:' not in data\n"
        "open(sys.argv[2], 'w').write('{\"ts\": 1.5, \"detector\": \"mine\", \"category\": \"anomaly\", '\n"
        "    '\"src_ip\": \"192.168.1.9\", \"dst\": {\"ip\": \"203.0.113.7\"}, \"proto\": \"tcp\", \"message\": \"hi\"}\\n')\n"
    ))
    alerts = make_detector(spec).detect(capture(plain_run))
    assert [(a.detector, a.ts, a.src_ip) for a in alerts] == [("mine", 1.5, "192.168.1.9")]


def test_failures_are_clear(plain_run, tmp_path):
    cap = capture(plain_run)
    with pytest.raises(DetectorError, match="exited with 3:\n.*kaput"):
        make_detector(_script(tmp_path, "print('kaput', file=sys.stderr); sys.exit(3)\n")).detect(cap)
    with pytest.raises(DetectorError, match="invalid alert.*:1"):
        make_detector(_script(tmp_path, "open(sys.argv[2], 'w').write('{\"ts\": 1}\\n')\n")).detect(cap)
    with pytest.raises(DetectorError, match="wrote no"):
        make_detector(_script(tmp_path, "pass\n")).detect(cap)
    with pytest.raises(DetectorError, match="longer than"):
        CommandDetector(cmd=_script(tmp_path, "import time; time.sleep(5)\n").split('"')[1],
                        timeout=0.5).detect(cap)
    with pytest.raises(DetectorError, match="not found"):
        make_detector('command,cmd="/no/such/program {pcap} {out}"').detect(cap)
    with pytest.raises(DetectorError, match="must contain {out}"):
        make_detector('command,cmd="prog {pcap}"').detect(cap)
