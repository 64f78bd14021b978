"""The lab's "internet": one wan container that answers for every address of TEST-NET-2 (198.51.100.0/24).

The simulation gives every internet name a TEST-NET-2 address (``testbed.benign.domains.address_of``),
and the lab's resolver answers the same. The host routes that whole /24 to this container as local
addresses (``ip route add local 198.51.100.0/24 dev lo`` in its namespace, set from the host), so that one
NTP server and one HTTPS server answer for all of them, each reply sent from the address that was asked.
Nothing here ever reaches a real server: there is none behind it.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from testbed import packets as P

NTP_PORT, HTTPS_PORT = 123, 443
IP_PKTINFO = 8  # Linux; Python's socket module does not name it
MAX_BODY = 1 << 20  # no session asks for more than 1 MiB


def serve_ntp(ip: str = "0.0.0.0", port: int = NTP_PORT) -> socket.socket:
    """Answer SNTP requests on ``port``, each from the address the client sent it to, until the socket closes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind((ip, port))

    def loop() -> None:
        while True:
            try:
                data, ancillary, _, addr = s.recvmsg(512, socket.CMSG_SPACE(12))
            except OSError:  # closed
                return
            received = time.time()
            if len(data) < 48:
                continue
            # struct in_pktinfo {int ifindex; in_addr spec_dst; in_addr addr}: addr is where it was sent.
            asked = next((d[8:12] for level, kind, d in ancillary if level == socket.IPPROTO_IP and kind == IP_PKTINFO),
                         None)
            reply = P.ntp_response(0.0, received, time.time())
            # The origin timestamp (bytes 24-32) echoes the request's transmit timestamp (40-48) bit for bit.
            reply = reply[:24] + data[40:48] + reply[32:]
            cmsg = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=i4s4s", 0, asked, bytes(4)))] if asked else []
            s.sendmsg([reply], cmsg, 0, addr)

    threading.Thread(target=loop, name="ntp", daemon=True).start()
    return s


class _Session(BaseHTTPRequestHandler):
    """A web or video server's answer: reads what the client sends, returns ``?bytes=N`` bytes."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def _answer(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        if length:
            self.rfile.read(length)
        query = parse_qs(urlparse(self.path).query)
        size = max(0, min(int(query.get("bytes", ["0"])[0] or 0), MAX_BODY))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(bytes(size))

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # one line per segment of a video would drown the container's log


def serve_https(certfile: str, keyfile: str, ip: str = "0.0.0.0", port: int = HTTPS_PORT) -> ThreadingHTTPServer:
    """An HTTPS server on ``port`` that answers every name (the client's SNI is never checked)."""
    server = ThreadingHTTPServer((ip, port), _Session)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    # The handshake happens in each connection's own thread, not in the accepting loop.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, name="https", daemon=True).start()
    return server
