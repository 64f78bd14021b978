"""Spec strings and the registry."""

from __future__ import annotations

import pytest

from testbed.detect import REGISTRY, DetectorError, make_detector
from testbed.detect.registry import split_spec


def test_registry_names_the_baselines():
    assert {"arp-sweep", "arp-trw", "pii-leak", "blocklist", "beacon", "flow-anomaly", "command"} <= set(REGISTRY)
    assert all(cls.name == name for name, cls in REGISTRY.items())


def test_typed_parameters():
    d = make_detector("arp-sweep,window=30,threshold=12,periodic=yes,method=trw")
    assert (d.window, d.threshold, d.periodic, d.method) == (30.0, 12, True, "trw")
    assert isinstance(d.window, float) and isinstance(d.threshold, int)
    assert make_detector("arp-trw").method == "trw"
    assert make_detector("blocklist,domains=none").domains is None
    assert make_detector("blocklist,domains=/x/y.csv").domains == "/x/y.csv"


def test_quoted_values_keep_commas():
    d = make_detector('command,cmd="python my.py --a=1,2 {pcap} {out}",timeout=5')
    assert d.cmd == "python my.py --a=1,2 {pcap} {out}" and d.timeout == 5.0
    assert split_spec("x,a='p, q',b=2") == ("x", [("a", "p, q"), ("b", "2")])


@pytest.mark.parametrize("spec, needle", [
    ("arp-swep", "unknown detector 'arp-swep'; registered: arp-sweep, arp-trw"),
    ("arp-sweep,windw=3", "no parameter 'windw'; its parameters: method, window"),
    ("arp-sweep,window=soon", "window: expected a float"),
    ("arp-sweep,method=magic", "one of fanout, trw"),
    ("arp-sweep,periodic=maybe", "true or false"),
    ("beacon,min_count=2.5", "expected an int"),
    ("arp-sweep,window", "expected key=value"),
    ('command,cmd="oops', "unterminated"),
    ("beacon,max_cv=0.1,max_cv=0.2", "given twice"),
])
def test_spec_errors_are_clear(spec, needle):
    with pytest.raises(DetectorError) as exc:
        make_detector(spec)
    assert needle in str(exc.value)
