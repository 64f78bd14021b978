"""A device's mDNS, by python-zeroconf: its population services registered, announced and answered.

python-zeroconf probes for and announces each registered service (RFC 6762 8), and answers questions for
what its registry holds: service types (PTR), instances (SRV, TXT) and the host names of those services
(``hostname.local`` A). Two things it does not do, and what stands in:

- It has no record for reverse-address names (``4.3.168.192.in-addr.arpa`` PTR), which the TV SDK asks
  for every host it found, and no hook to add one: its query handler answers only from the service
  registry. A small listener beside it catches those questions, and zeroconf sends the answer (its
  records, its encoder, its socket).
- A host that offers no service has nothing to register, so zeroconf would not answer for its name:
  such a host registers ``_device-info._tcp`` (as Apple hosts publish their model), which carries its
  host name and address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
from collections.abc import Iterable

from zeroconf import (
    DNSAddress,
    DNSIncoming,
    DNSOutgoing,
    DNSPointer,
    DNSQuestion,
    EventLoopBlocked,
    IPVersion,
    ServiceInfo,
    Zeroconf,
)
from zeroconf.const import (
    _CLASS_IN,
    _CLASS_UNIQUE,
    _DNS_HOST_TTL,
    _FLAGS_AA,
    _FLAGS_QR_QUERY,
    _FLAGS_QR_RESPONSE,
    _MDNS_PORT,
    _TYPE_A,
    _TYPE_ANY,
    _TYPE_PTR,
)

from testbed import packets as P
from testbed.live.netif import multicast_socket
from testbed.packets.dns import SERVICE_PORTS

MDNS_GROUP = "224.0.0.251"
DEVICE_INFO = "_device-info._tcp.local."
REGISTER_TIMEOUT_S = 10.0


def fqdn(name: str) -> str:
    """``name`` with the trailing dot zeroconf wants (``_ipp._tcp.local`` -> ``_ipp._tcp.local.``)."""
    return name if name.endswith(".") else name + "."


def _service_port(entry: str) -> tuple[str, int]:
    # As the simulation's announcements: ``_ipp._tcp.local`` or ``_ipp._tcp.local:631``.
    service, _, port = entry.partition(":")
    service = service.rstrip(".")
    return fqdn(service), int(port) if port else SERVICE_PORTS.get(service.removesuffix(".local"), 80)


class MdnsHost:
    """One device's zeroconf: ``start()`` in the node's event loop; ``announce``/``query`` from any thread."""

    def __init__(self, hostname: str, ip: str, services: Iterable[str] = (), model: str = "",
                 answers: bool = True) -> None:
        self.host = fqdn(f"{hostname}.local")
        self.ip = ip
        self.reverse = fqdn(P.reverse_name(ip))
        self.answers = answers
        instance = hostname.replace("-", " ")  # as the simulation names instances
        self.infos: dict[str, ServiceInfo] = {}
        for entry in services:
            service, port = _service_port(entry)
            self.infos[entry] = ServiceInfo(service, f"{instance}.{service}", port=port, properties={"txtvers": "1"},
                                            server=self.host, addresses=[socket.inet_aton(ip)])
        self._host_info = ServiceInfo(DEVICE_INFO, f"{instance}.{DEVICE_INFO}", port=0,
                                      properties={"model": model or "device"}, server=self.host,
                                      addresses=[socket.inet_aton(ip)])
        self.registered: list[ServiceInfo] = []
        self.ready = threading.Event()  # set when registration is over (done or failed)
        self.zc: Zeroconf | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Open zeroconf on this device's address only; registration (probing, then announcing) runs on."""
        self.zc = Zeroconf(interfaces=[self.ip], ip_version=IPVersion.V4Only)
        if not self.answers:
            self.ready.set()
            return
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: _ReverseListener(self),
                                            sock=multicast_socket(MDNS_GROUP, _MDNS_PORT, self.ip))
        # Not awaited: probing takes a second or so, and nothing in the lab asks before then.
        task = loop.create_task(self._register())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _register(self) -> None:
        infos = list(self.infos.values()) or [self._host_info]
        try:
            await asyncio.gather(*(self._register_one(i) for i in infos))
        finally:
            self.ready.set()

    async def _register_one(self, info: ServiceInfo) -> None:
        assert self.zc is not None
        try:
            # Not strict: real devices announce names longer than RFC 6763's 15 bytes (_androidtvremote2).
            announcing = await self.zc.async_register_service(info, strict=False)
            self.registered.append(info)
            await announcing
        except Exception as exc:  # the host reads this line from the container's log
            print(f"mdns: {info.name} not registered: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def address_record(self) -> DNSAddress:
        """This host's A record (unique: the cache-flush bit set)."""
        return DNSAddress(self.host, _TYPE_A, _CLASS_IN | _CLASS_UNIQUE, _DNS_HOST_TTL, socket.inet_aton(self.ip))

    def announce(self, services: Iterable[str]) -> None:
        """Announce ``services`` again (zeroconf re-broadcasts each), or the host's name when there are none."""
        assert self.zc is not None
        self.ready.wait(REGISTER_TIMEOUT_S)
        infos = [self.infos[s] for s in services if s in self.infos and self.infos[s] in self.registered]
        for info in infos:
            # Blocks while zeroconf sends its announcements; on a machine too busy for that, the next will do.
            with contextlib.suppress(EventLoopBlocked):
                self.zc.update_service(info)
        if not infos:
            out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA)
            out.add_answer_at_time(self.address_record(), 0)
            self.zc.send(out)

    def query(self, service: str) -> None:
        """Ask the LAN who offers ``service`` (a PTR question); devices offering it answer by multicast."""
        assert self.zc is not None
        out = DNSOutgoing(_FLAGS_QR_QUERY)
        out.add_question(DNSQuestion(fqdn(service), _TYPE_PTR, _CLASS_IN))
        self.zc.send(out)

    def answer_reverse(self, query: DNSIncoming, addr: tuple[str, int]) -> None:
        """Answer a question for this host's reverse-address name (in the event loop)."""
        assert self.zc is not None
        pointer = DNSPointer(self.reverse, _TYPE_PTR, _CLASS_IN | _CLASS_UNIQUE, _DNS_HOST_TTL, self.host)
        if addr[1] == _MDNS_PORT:  # an mDNS querier: the answer goes to the group
            out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA)
        else:  # a one-shot (legacy unicast) querier: back to it, with its id and question (RFC 6762 6.7)
            out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA, multicast=False, id_=query.id)
            for question in query.questions:
                out.add_question(question)
        out.add_answer_at_time(pointer, 0)
        out.add_additional_answer(self.address_record())
        if out.multicast:
            self.zc.async_send(out)
        else:
            self.zc.async_send(out, addr[0], addr[1])


class _ReverseListener(asyncio.DatagramProtocol):
    """Catches questions for the host's reverse-address name, which zeroconf itself leaves unanswered."""

    def __init__(self, host: MdnsHost) -> None:
        self.host = host

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            msg = DNSIncoming(data)
        except Exception:  # noqa: BLE001 - anything may arrive on a multicast group
            return
        if not msg.valid or not msg.is_query():
            return
        if any(q.name.lower() == self.host.reverse and q.type in (_TYPE_PTR, _TYPE_ANY) for q in msg.questions):
            self.host.answer_reverse(msg, addr)
