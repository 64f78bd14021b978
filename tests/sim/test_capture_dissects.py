"""The capture as real tools see it: tshark dissects every protocol cleanly, nfstream finds the uploads."""

from __future__ import annotations

import subprocess
from collections import Counter

from tests.helpers import require_tshark

CHECKSUMS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]


def tshark_fields(pcap, *fields, display_filter=None):
    cmd = [require_tshark(), "-r", str(pcap), "-n", *CHECKSUMS, "-T", "fields", "-E", "separator=|"]
    if display_filter:
        cmd += ["-Y", display_filter]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [line.split("|") for line in proc.stdout.splitlines()]


def test_no_malformed_frames_bad_checksums_or_expert_errors(gozen_run, tls_run):
    for run in (gozen_run, tls_run):
        bad = tshark_fields(run / "capture.pcapng", "frame.number", "frame.protocols", "_ws.expert.message",
                            display_filter="_ws.malformed || _ws.expert.severity >= 8388608 "
                                           "|| ip.checksum.status == 0 || udp.checksum.status == 0 "
                                           "|| tcp.checksum.status == 0")
        assert bad == [], bad[:5]


def test_each_protocol_is_dissected_as_itself(gozen_run):
    rows = tshark_fields(gozen_run / "capture.pcapng", "frame.protocols", "frame.comment")
    by_label = Counter()
    for protocols, label in rows:
        layers = protocols.split(":")
        kind = label.split("-")[-1] if not label.startswith("benign:") else label
        for proto in ("arp", "icmp", "mdns", "nbns", "dns", "dhcp", "ssdp", "ntp", "http", "tls"):
            if proto in layers:
                by_label[(kind, proto)] += 1
    assert by_label[("sweep", "arp")] > 0
    assert by_label[("probe", "icmp")] > 0 and by_label[("probe", "mdns")] > 0 and by_label[("probe", "nbns")] > 0
    assert by_label[("upload", "dns")] > 0 and by_label[("upload", "http")] > 0
    assert by_label[("benign:dhcp", "dhcp")] > 0 and by_label[("benign:ssdp", "ssdp")] > 0
    assert by_label[("benign:mdns", "mdns")] > 0 and by_label[("benign:ntp", "ntp")] > 0
    assert by_label[("benign:streaming", "tls")] > 0 or by_label[("benign:tv-telemetry", "tls")] > 0
    # The sweep really is a sweep: who-has for (almost) every address of the /24 per cycle.
    sweep = tshark_fields(gozen_run / "capture.pcapng", "frame.comment", "arp.dst.proto_ipv4",
                          display_filter="arp.opcode == 1 && frame.comment contains \"-sweep\"")
    per_event = Counter(label for label, _ in sweep)
    assert per_event and all(n == 253 for n in per_event.values())


def test_upload_is_an_http_post_carrying_the_report(gozen_run):
    posts = tshark_fields(gozen_run / "capture.pcapng", "http.host", "http.request.uri", "http.file_data",
                          "frame.comment", display_filter="http.request.method == \"POST\"")
    assert posts
    for host, uri, _body, label in posts:
        assert host == "gz-data.com" and uri == "/api/v1/report" and label.endswith("-upload")
    dns = tshark_fields(gozen_run / "capture.pcapng", "dns.a", display_filter="dns.qry.name == \"gz-data.com\" && dns.flags.response == 1")
    assert dns and all(a == "203.0.113.7" for (a,) in dns)


def test_tls_upload_shows_only_the_sni(tls_run):
    hellos = tshark_fields(tls_run / "capture.pcapng", "tls.handshake.extensions_server_name", "frame.comment",
                           display_filter="tls.handshake.type == 1 && ip.dst == 203.0.113.7")
    assert hellos and all(sni == "gz-data.com" and label.endswith("-upload") for sni, label in hellos)
    assert tshark_fields(tls_run / "capture.pcapng", "frame.number",
                         display_filter="http && ip.addr == 203.0.113.7") == []


def _nfstream_flows(pcap):
    from nfstream import NFStreamer

    return [(f.dst_ip, f.dst_port, f.application_name, f.requested_server_name)
            for f in NFStreamer(source=str(pcap), statistical_analysis=False, n_dissections=20)]


def test_nfstream_names_the_upload_flows(gozen_run, tls_run):
    http = [f for f in _nfstream_flows(gozen_run / "capture.pcapng") if f[0] == "203.0.113.7"]
    assert http and all("HTTP" in app for _, _, app, _ in http)
    tls = [f for f in _nfstream_flows(tls_run / "capture.pcapng") if f[0] == "203.0.113.7"]
    assert tls and all("TLS" in app and sni == "gz-data.com" for _, _, app, sni in tls)
