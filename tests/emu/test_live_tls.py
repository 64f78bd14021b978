"""The SDK's TLS upload as containers do it, against the collector under gunicorn with a self-made
certificate, on loopback (no Docker needed)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

from collector_mock.codec import encode
from testbed.live.tls import self_signed
from testbed.sdk.transport import HttpRequest, HttpTransport

REPORT = {"schema": "gozen/1", "sdk": {"name": "gozen", "version": "2.3.7"},
          "tv": {"id": "h0000-tv1", "home": "h0000", "vendor": "Skyworth", "model": "55Q71",
                 "mac": "ac:4a:fe:00:00:01", "ip": "192.168.1.50"},
          "cycle": 1, "collected_at": 1619107200.0, "consent": "not_asked",
          "hosts": [{"ip": "192.168.1.23", "mac": "3c:22:fb:11:22:33", "hostname": "Johns-iPhone", "rtt_ms": 4.2}],
          "wifi": [{"ssid": "ChinaNet-xK9d", "bssid": "c8:3a:35:00:00:07", "rssi": -67, "channel": 6}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tls_upload_with_sni_reaches_the_collector(tmp_path):
    certfile, keyfile = self_signed(["gz-data.com"])
    db = tmp_path / "collector.sqlite"
    port = _free_port()
    env = {**os.environ, "COLLECTOR_DATABASE": str(db), "COLLECTOR_ADMIN_TOKEN": "test-token-123"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--certfile", str(certfile), "--keyfile", str(keyfile), "collector_mock.wsgi:app"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        transport = HttpTransport(timeout=5, tls=True)
        body = encode(json.dumps(REPORT).encode(), "gzip+aes", key=b"gozen-demo-key-1", iv=bytes(16))
        request = HttpRequest("POST", "gz-data.com", "/api/v1/report",
                              (("Content-Type", "application/octet-stream"), ("X-Payload-Encoding", "gzip+aes")), body)
        deadline = time.monotonic() + 30
        while True:  # wait until gunicorn listens (never a fixed sleep)
            response = transport.send(request, ("127.0.0.1", port))
            if response.status or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert response.status == 200, response.reason
        assert transport.last_local_port > 0
        # Plain HTTP to the TLS port is refused: the upload really went through TLS.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            raise AssertionError("plain HTTP was answered on the TLS port")
        except OSError:
            pass
    finally:
        server.terminate()
        server.wait(timeout=10)
    con = sqlite3.connect(db)
    assert con.execute("SELECT ssid FROM wifi").fetchall() == [("ChinaNet-xK9d",)]
    con.close()
