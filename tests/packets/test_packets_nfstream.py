"""nfstream (nDPI) classifies the synthetic HTTP and TLS flows and reads the TLS SNI, straight from
our pcapng files, comments and all."""

from __future__ import annotations

from pathlib import Path

import nfstream  # a dev dependency: missing, it should fail loudly rather than skip

from testbed.packets import PcapngWriter
from tests.packets.lan import SNI, START_US, http_session, tls_session


def _flows(path: Path, frames: list[tuple[int, bytes]]) -> list:
    with PcapngWriter(path) as writer:
        writer.write_many((ts, frame, "h0001-tv1-c0001-upload") for ts, frame in frames)
    return list(nfstream.NFStreamer(source=str(path), statistical_analysis=False, n_meters=1))


def test_nfstream_sees_http(tmp_path: Path) -> None:
    (flow,) = _flows(tmp_path / "http.pcapng", http_session(START_US).frames)
    assert "HTTP" in flow.application_name
    assert flow.requested_server_name == SNI  # nDPI reports the Host header here
    assert flow.bidirectional_packets == len(http_session(START_US).frames)


def test_nfstream_sees_tls_and_its_sni(tmp_path: Path) -> None:
    (flow,) = _flows(tmp_path / "tls.pcapng", tls_session(START_US).frames)
    assert "TLS" in flow.application_name
    assert flow.requested_server_name == SNI
