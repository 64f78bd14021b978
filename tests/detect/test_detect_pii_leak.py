"""pii-leak: identifiers learned passively, found in outbound payloads under encodings."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.parse

import pytest

from testbed.detect import make_detector
from testbed.detect.identifiers import IdentifierBook
from testbed.detect.payload_views import views
from testbed.detect.pii_leak import _Matcher

from .conftest import capture, events, tv_ips


def test_plain_json_uploads(plain_run):
    alerts = make_detector("pii-leak").detect(capture(plain_run))
    uploads = events(plain_run, "upload")
    assert len(alerts) == len(uploads)  # one alert per upload flow, none elsewhere
    assert {a.src_ip for a in alerts} == tv_ips(plain_run)
    assert all(a.fields == ["hostname", "ip", "mac"] and a.dst["ip"] == "203.0.113.7" for a in alerts)
    assert all(a.community_id in e["flows"] for a, e in zip(alerts, uploads, strict=True))
    assert all(e["start"] <= a.ts <= e["end"] for a, e in zip(alerts, uploads, strict=True))
    # MACs: most of each upload's hosts are learnable from ARP replies on the same LAN
    macs_sent = [sum(1 for i in e["items"] if i["field"] == "mac") for e in uploads]
    found = [int(a.message.split("mac x")[1].split(" ")[0]) for a in alerts]
    assert sum(found) >= 0.8 * sum(macs_sent)


def test_hashed_ids_in_base64_gzip(hashed_run):
    alerts = make_detector("pii-leak").detect(capture(hashed_run))
    assert len(alerts) == len(events(hashed_run, "upload"))
    assert all({"mac", "hostname"} <= set(a.fields) for a in alerts)
    assert all("base64>gzip>sha256" in a.message for a in alerts)


def test_depth_one_misses_two_layers(hashed_run):
    assert make_detector("pii-leak,depth=1").detect(capture(hashed_run)) == []


def test_tls_and_benign_are_opaque_or_clean(tls_run, benign_run):
    assert make_detector("pii-leak").detect(capture(tls_run)) == []
    assert make_detector("pii-leak").detect(capture(benign_run)) == []


@pytest.fixture
def matcher():
    book = IdentifierBook()
    book.add("mac", "3C:22:FB:11:22:33", 0.0)
    book.add("hostname", "DESKTOP-WY2AK1U", 0.0)
    book.add("ip", "192.168.1.2", 0.0)
    return _Matcher(book)


def _found(matcher, payload: bytes, depth: int = 2, bodies: bool = True) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path, view in views(payload, depth, bodies):
        for fld, _, how in matcher.find(view):
            out.setdefault(fld, set()).add(path if how == "plain" else f"{path}>{how}")
    return out


@pytest.mark.parametrize("payload, field, how", [
    (b"POST /r HTTP/1.1\r\n\r\nmac=3c-22-fb-11-22-33", "mac", "plain"),
    (b"GET /r?m=3C%3A22%3AFB%3A11%3A22%3A33 HTTP/1.1\r\n\r\n", "mac", "url"),
    (b'{"m":"3c22fb112233"}', "mac", "plain"),
    (b'{"h":"' + hashlib.md5(b"desktop-wy2ak1u").hexdigest().encode() + b'"}', "hostname", "plain>md5"),
    (b'{"h":"' + hashlib.sha1(b"3c:22:fb:11:22:33").hexdigest().upper().encode() + b'"}', "mac", "plain>sha1"),
    (b'{"h":"' + b"DESKTOP-WY2AK1U".hex().encode() + b'"}', "hostname", "plain>hex"),
    (b"x=" + base64.b64encode(b'{"host":"DESKTOP-WY2AK1U"}'), "hostname", "base64"),
    (b"POST / HTTP/1.1\r\n\r\n" + gzip.compress(b'{"ip":"192.168.1.2"}'), "ip", "gzip"),
    (base64.b64encode(gzip.compress(b'{"mac":"3c:22:fb:11:22:33"}')), "mac", "base64>gzip"),
    (json.dumps({"h": "DESKTOP\u2010WY2AK1U", "m": "3c:22:fb:11:22:33"}).encode().replace(b":", b"\\u003a"),
     "mac", "json-escape"),
    # '+' and '/' of base64 become %2B and %2F: only URL-decoding first gives back the token
    (urllib.parse.quote(base64.b64encode(b"\xfb\xef\xbe\xff 192.168.1.2 is home"), safe="").encode(), "ip",
     "url>base64"),
])
def test_encodings(matcher, payload, field, how):
    assert how in _found(matcher, payload).get(field, set())
    # pii-leak leaves HTTP bodies out as views of their own (their messages hold them): same findings
    assert _found(matcher, payload, bodies=False) == _found(matcher, payload)


def test_no_partial_address_or_substring_base64(matcher):
    assert "ip" not in _found(matcher, b'{"ip":"192.168.1.20"}')
    # base64 is decoded token by token, never substring-searched
    assert _found(matcher, b"token=QUJDREVGR0hJSktMTU5PUA==") == {}


def test_views_without_bodies_keep_their_decodings():
    body = base64.b64encode(gzip.compress(b'{"mac":"3c:22:fb:11:22:33"}'))
    message = b"POST /r HTTP/1.1\r\nHost: a\r\n\r\n" + body
    with_bodies = list(views(message))
    without = list(views(message, bodies=False))
    assert ("plain", body) in with_bodies and ("plain", body) not in without
    assert [v for v in with_bodies if v != ("plain", body)] == without
