"""blocklist: the curated list and its matching."""

from __future__ import annotations

from testbed.detect import make_detector
from testbed.detect.blocklist import load_tracking_domains, match_domain

from .conftest import capture, events, tv_ips


def test_shipped_list_is_curated():
    listed = load_tracking_domains()
    assert 20 <= len(listed) <= 60
    assert {"gz-data.com", "gzads.com", "gozendata.com"} <= set(listed)
    assert all(e.source and e.vendor and e.category for e in listed.values())
    assert match_domain("log.tv.skyworthdigital.com", listed) is None  # first party: not listed (L6)
    assert match_domain("a.b.SamsungACR.com.", listed).vendor == "Samsung"
    assert match_domain("notgz-data.com", listed) is None


def test_fires_on_gozen_collector(plain_run, tls_run, benign_run):
    alerts = make_detector("blocklist").detect(capture(plain_run))
    uploads = events(plain_run, "upload")
    assert {a.src_ip for a in alerts} == tv_ips(plain_run)
    assert {a.proto for a in alerts} == {"dns", "http"}
    assert all(a.dst["domain"] == "gz-data.com" for a in alerts)
    assert sum(any(e["start"] <= a.ts <= e["end"] + 60 for a in alerts) for e in uploads) == len(uploads)
    tls = make_detector("blocklist").detect(capture(tls_run))
    assert {a.proto for a in tls} == {"dns", "tls"}  # the SNI names the collector even inside TLS
    assert make_detector("blocklist,dns=false,sni=false").detect(capture(tls_run)) == []
    assert make_detector("blocklist").detect(capture(benign_run)) == []


def test_custom_list(plain_run, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("domain,vendor,category,source\nskyworthdigital.com,Skyworth,telemetry,test\n")
    alerts = make_detector(f"blocklist,domains={path}").detect(capture(plain_run))
    assert alerts and all(a.dst["domain"] == "log.tv.skyworthdigital.com" for a in alerts)
