"""A device's answers with its real population identity: NetBIOS node status and SSDP.

ARP and ICMP echo are the kernel's; mDNS is python-zeroconf's (``testbed.live.mdns``). These two are
small asyncio UDP responders rather than Samba or a UPnP stack: they must answer exactly as the
simulation's devices do (same names, same rules for who answers what), which the project's own packet
builders already encode.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from testbed import packets as P
from testbed.live.netif import multicast_socket

SSDP_GROUP = "239.255.255.250"


@dataclass(frozen=True)
class Identity:
    """Who a device is on its LAN (from the population)."""

    hostname: str
    ip: str
    mac: str
    netbios: bool
    ssdp_type: str | None


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, handle) -> None:
        self.handle = handle
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            reply = self.handle(data, addr)
        except Exception:  # noqa: BLE001 - a malformed datagram must never stop a responder
            return
        if reply is not None and self.transport is not None:
            payload, dest = reply
            self.transport.sendto(payload, dest)


class Responders:
    """The UDP responders of one device."""

    def __init__(self, me: Identity) -> None:
        self.me = me

    def nbns(self, data: bytes, addr) -> tuple[bytes, tuple[str, int]] | None:
        if len(data) < 12 or data[2] & 0x80:
            return None
        txid = int.from_bytes(data[:2], "big")
        name = self.me.hostname.upper()[:15]
        return P.nbns_nbstat_response(txid, name, P.mac_bytes(self.me.mac)), addr

    def ssdp(self, data: bytes, addr) -> tuple[bytes, tuple[str, int]] | None:
        text = data.decode("ascii", "replace")
        if not text.startswith("M-SEARCH") or not self.me.ssdp_type:
            return None
        st = next((line.split(":", 1)[1].strip() for line in text.split("\r\n") if line.upper().startswith("ST:")), "")
        if st not in ("ssdp:all", self.me.ssdp_type):
            return None
        usn = f"uuid:{self.me.mac.replace(':', '')}::{self.me.ssdp_type}"
        return P.ssdp_response(self.me.ssdp_type, f"http://{self.me.ip}:49152/description.xml", usn,
                               "Linux/5.4 UPnP/1.0"), addr

    async def start(self) -> None:
        """Bind every responder this device runs."""
        loop = asyncio.get_running_loop()
        if self.me.netbios:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # Shared: a phone's scanner app binds its own port 137 while it probes the LAN.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", 137))
            await loop.create_datagram_endpoint(lambda: _Udp(self.nbns), sock=s)
        if self.me.ssdp_type:
            await loop.create_datagram_endpoint(lambda: _Udp(self.ssdp),
                                                sock=multicast_socket(SSDP_GROUP, 1900, self.me.ip))
