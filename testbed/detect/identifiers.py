"""What a passive observer learns about a home's devices from its own LAN traffic: MAC and IP addresses,
host names. Used by ``pii-leak`` to know what to look for in outbound payloads.

Sources: ARP senders; DHCP (client hardware address, option 12 host name, requested/assigned address);
mDNS answers (A record owners, reverse-PTR targets, SRV targets); NetBIOS node-status answers; the
address in SSDP ``LOCATION`` headers. Wi-Fi SSIDs and BSSIDs of neighbour networks are *not* learnable:
they come from the TV's radio scan, which never appears on the wired capture.
"""

from __future__ import annotations

import re
import struct

import dpkt

from .frame import ETH_ARP, PROTO_UDP, Frame, is_local_ip

TEACHING_PORTS = frozenset((5353, 137, 67, 68, 1900))  # UDP: mDNS, NBNS, DHCP, SSDP
_LOCATION = re.compile(rb"(?im)^location:\s*https?://(\d{1,3}(?:\.\d{1,3}){3})")


class IdentifierBook:
    """Identifiers seen so far, each with its field (``mac``, ``hostname``, ``ip``) and first-seen time."""

    def __init__(self, min_hostname_len: int = 4) -> None:
        self.min_hostname_len = min_hostname_len
        self.seen: dict[tuple[str, str], float] = {}  # (field, lower-case value) -> first seen
        # Sweeps and announcements repeat the same packets every cycle; what taught us once is skipped.
        # ``arp_senders`` holds the (MAC, IP) of every ARP sender learned: a caller on a hot path may skip
        # ``learn`` for an ARP frame whose sender is in it.
        self.arp_senders: set[tuple[str | None, str | None]] = set()
        self._payloads: set[bytes] = set()

    def add(self, fld: str, value: str | None, ts: float) -> None:
        """Record ``value`` as an identifier of kind ``fld`` (ignoring empty and placeholder values)."""
        if not value:
            return
        v = value.strip().lower()
        if fld == "hostname":
            v = v.removesuffix(".local").rstrip(".")
            if len(v) < self.min_hostname_len or v.endswith(".arpa"):
                return
        elif (fld == "mac" and v in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")) or (
            fld == "ip" and (v == "0.0.0.0" or not is_local_ip(v) or v.endswith(".255"))
        ):
            return
        if (fld, v) not in self.seen:
            self.seen[(fld, v)] = ts

    def learn(self, f: Frame) -> None:
        """Learn from one frame (cheap for the frames that teach nothing)."""
        if f.ethertype == ETH_ARP:
            pair = (f.arp_sha, f.arp_spa)
            if pair not in self.arp_senders and pair[1] and pair[1] != "0.0.0.0":
                self.arp_senders.add(pair)
                self.add("ip", pair[1], f.ts)
                self.add("mac", pair[0], f.ts)
            return
        if f.ip_proto != PROTO_UDP or not f.payload:
            return
        sport, dport = f.sport, f.dport
        if sport not in TEACHING_PORTS and dport not in TEACHING_PORTS:
            return
        # mDNS and NetBIOS answers repeat but for their transaction ID (the first two bytes)
        key = f.payload[2:] if sport in (5353, 137) or dport == 5353 else f.payload
        if key in self._payloads:
            return
        if len(self._payloads) > 100_000:
            self._payloads.clear()  # bounded: memory must not grow with the capture
        self._payloads.add(key)
        try:
            if sport == 5353 or dport == 5353:
                self._mdns(f)
            elif sport == 137 and dport:
                self._nbstat(f.payload, f.ts)
            elif dport == 67 or sport == 67:
                self._dhcp(f.payload, f.ts)
            elif dport == 1900 or sport == 1900:
                m = _LOCATION.search(f.payload)
                if m:
                    self.add("ip", m.group(1).decode(), f.ts)
        except (dpkt.UnpackError, IndexError, struct.error, UnicodeDecodeError, ValueError):
            pass  # a malformed packet teaches nothing

    def _mdns(self, f: Frame) -> None:
        msg = f.dns()
        if msg is None or not msg.qr:
            return
        for rr in list(msg.an) + list(msg.ar):
            if rr.type == dpkt.dns.DNS_A:
                self.add("hostname", rr.name, f.ts)
                if len(rr.rdata) == 4:
                    self.add("ip", ".".join(map(str, rr.rdata)), f.ts)
            elif rr.type == dpkt.dns.DNS_PTR and rr.name.endswith(".in-addr.arpa"):
                self.add("hostname", rr.ptrname, f.ts)
                parts = rr.name.split(".")[:4]
                if len(parts) == 4 and all(p.isdigit() for p in parts):
                    self.add("ip", ".".join(reversed(parts)), f.ts)
            elif rr.type == dpkt.dns.DNS_SRV:
                self.add("hostname", rr.srvname, f.ts)

    def _nbstat(self, p: bytes, ts: float) -> None:
        # A node-status answer: header, the queried name, type/class/ttl/rdlength, then the name table
        # (count; 15-byte name, suffix, flags each) and the unit ID, which is the MAC address.
        if len(p) < 12 or not p[2] & 0x80 or struct.unpack_from("!H", p, 6)[0] < 1:
            return
        i = 12
        while p[i]:
            i += 1 + p[i]
        i += 1
        rtype = struct.unpack_from("!H", p, i)[0]
        if rtype != 0x21:
            return
        i += 10
        count = p[i]
        i += 1
        for k in range(count):
            entry = p[i + 18 * k:i + 18 * k + 18]
            flags = struct.unpack_from("!H", entry, 16)[0]
            if entry[15] == 0x00 and not flags & 0x8000:  # a unique workstation name, not a group
                self.add("hostname", entry[:15].decode("ascii").strip(), ts)
        unit = p[i + 18 * count:i + 18 * count + 6]
        if len(unit) == 6 and any(unit):
            self.add("mac", unit.hex(":"), ts)

    def _dhcp(self, p: bytes, ts: float) -> None:
        msg = dpkt.dhcp.DHCP(p)
        chaddr = bytes(msg.chaddr)[:6]
        if len(chaddr) == 6:
            self.add("mac", chaddr.hex(":"), ts)
        for code, value in msg.opts:
            if code == dpkt.dhcp.DHCP_OPT_HOSTNAME:
                self.add("hostname", value.decode("utf-8", "replace"), ts)
            elif code == dpkt.dhcp.DHCP_OPT_REQ_IP and len(value) == 4:
                self.add("ip", ".".join(map(str, value)), ts)
        if msg.yiaddr:
            self.add("ip", ".".join(map(str, msg.yiaddr.to_bytes(4, "big"))), ts)
