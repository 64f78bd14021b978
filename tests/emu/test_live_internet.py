"""The lab's "internet" node and the live executor's benign steps, on loopback (no Docker needed)."""

from __future__ import annotations

import random
import socket
import struct

import pytest

from testbed import packets as P
from testbed.live.executor import LiveExecutor
from testbed.live.internet import serve_https, serve_ntp
from testbed.live.tls import self_signed
from testbed.sdk.transport import HttpRequest, HttpTransport
from testbed.steps import HttpsSession


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ntp_answers_from_the_address_asked_and_echoes_the_request():
    port = _free_port(socket.SOCK_DGRAM)
    server = serve_ntp("0.0.0.0", port)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        client.settimeout(5)
        request = P.ntp_request(1619136300.25)
        # All of 127.0.0.0/8 is local, as TEST-NET-2 is inside the internet node: ask another address.
        client.sendto(request, ("127.0.0.9", port))
        reply, (source, _) = client.recvfrom(512)
    finally:
        client.close()
        server.close()
    assert source == "127.0.0.9"
    assert len(reply) == 48 and reply[0] & 0x07 == 4  # mode 4: server
    assert reply[24:32] == request[40:48]  # origin timestamp = the client's transmit timestamp
    assert struct.unpack("!I", reply[40:44])[0] > struct.unpack("!I", request[40:44])[0]  # now, after 2021


def test_https_sessions_get_the_size_they_ask_for(tmp_path):
    certfile, keyfile = self_signed(["internet"])
    port = _free_port(socket.SOCK_STREAM)
    server = serve_https(str(certfile), str(keyfile), "127.0.0.1", port)
    try:
        request = HttpRequest("POST", "www.bing.com", "/s?bytes=50000", (), bytes(2000))
        response = HttpTransport(timeout=5, tls=True).send(request, ("127.0.0.1", port))
        assert response.status == 200 and len(response.body) == 50000
        executor = LiveExecutor("lo", "127.0.0.1", random.Random(1))
        executor._addresses["www.bing.com"] = "127.0.0.1"  # as if its DnsLookup had just answered
        outcome = executor.perform(HttpsSession("www.bing.com", 1200, 30000, 0.5, port=port))
        (flow,) = outcome.flows
        assert (flow.proto, flow.dst, flow.dport) == ("tcp", "127.0.0.1", port) and flow.sport > 0
        assert flow.last_us > flow.first_us
    finally:
        server.shutdown()
        server.server_close()


def test_benign_steps_the_container_cannot_perform_are_named():
    from testbed.steps import DhcpJoin, DnsLookups, Host, MdnsAnnounce, NtpSync, RouterArp

    executor = LiveExecutor("lo", "127.0.0.1", random.Random(1))
    assert not executor.supports(DhcpJoin())  # Docker fixes every address: no DHCP in a container
    assert not executor.supports(MdnsAnnounce(()))  # only with the node's zeroconf
    assert executor.supports(NtpSync("time.apple.com"))
    assert executor.supports(DnsLookups(("time.apple.com",), ()))
    assert executor.supports(RouterArp((Host("127.0.0.2", "00:00:00:00:00:00"),), ()))


def test_the_router_refresh_refuses_any_target_outside_its_own_subnet_before_sending():
    from testbed.errors import ContainmentError
    from testbed.steps import Host, RouterArp

    executor = LiveExecutor("lo", "127.0.0.1", random.Random(1))
    step = RouterArp((Host("127.0.0.2", "00:00:00:00:00:02"), Host("10.20.30.40", "00:00:00:00:00:03")), (1.0,))
    with pytest.raises(ContainmentError, match="refusing to ARP for 10.20.30.40"):
        executor.perform(step)
