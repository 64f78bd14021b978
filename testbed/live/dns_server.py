"""The "wan" resolver (answers the collector's domain and every other name from fixed tables) and the
gateway's forwarder (relays its LAN's queries to that resolver), as tiny asyncio UDP services.

Nothing is ever forwarded to a real resolver: the resolver only answers from its tables, and names it
does not know get addresses in TEST-NET-2 (``testbed.benign.domains.address_of``), as in the simulation.
"""

from __future__ import annotations

import asyncio
import socket

from testbed import packets as P
from testbed.benign.domains import address_of
from testbed.live.netif import dns_questions


class Resolver(asyncio.DatagramProtocol):
    """Answers A questions: ``names`` first (the collector's domain), TEST-NET-2 for anything else."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = {k.lower(): v for k, v in names.items()}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            txid, flags, questions = dns_questions(data)
        except Exception:  # noqa: BLE001
            return
        if flags & 0x8000 or not questions or self.transport is None:
            return
        name, qtype = questions[0]
        if qtype == 1:
            reply = P.dns_response(txid, name, 1, [self.names.get(name.lower()) or address_of(name)])
        else:
            reply = P.dns_response(txid, name, qtype, [])  # NODATA: the fake internet is IPv4 only
        self.transport.sendto(reply, addr)


class Forwarder(asyncio.DatagramProtocol):
    """Relays each query to ``upstream`` from a fresh socket and sends the answer back (a home router's DNS)."""

    def __init__(self, upstream: str, timeout: float = 3.0) -> None:
        self.upstream = upstream
        self.timeout = timeout
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        asyncio.get_running_loop().create_task(self._relay(data, addr))

    async def _relay(self, data: bytes, addr) -> None:
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            await loop.sock_sendto(s, data, (self.upstream, 53))
            answer = await asyncio.wait_for(loop.sock_recv(s, 4096), self.timeout)
            if self.transport is not None:
                self.transport.sendto(answer, addr)
        except (TimeoutError, OSError):
            pass  # the client retries or gives up, as with a real router
        finally:
            s.close()


async def serve(protocol: asyncio.DatagramProtocol, ip: str) -> None:
    """Listen on ``ip``:53."""
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: protocol, local_addr=(ip, 53))
