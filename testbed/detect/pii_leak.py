"""``pii-leak``: the home's own identifiers in traffic that leaves the home (category ``exfil``).

The detector learns the home's identifiers passively from the same capture (see ``identifiers``), then
searches every outbound payload to a non-local address (TCP client bytes reassembled per flow; UDP per
datagram) for them, in plain text and under the encodings of ``payload_views`` (up to two layers), and
in the forms an SDK may give them: MACs with colons, dashes or none, any case; hex of the text; md5,
sha1 and sha256 hex of the lower-case text. It names the fields found (``mac``, ``hostname``, ``ip``).

Limits, as in reality: TLS and AES payloads are opaque; SSIDs/BSSIDs of neighbour Wi-Fi cannot be
learned from a wire capture, so their leak is not detected.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from itertools import islice

from .base import Detector, Watch
from .flowid import community_id
from .frame import PROTO_TCP, PROTO_UDP, TCP_FIN, TCP_RST, is_local_ip
from .identifiers import TEACHING_PORTS, IdentifierBook
from .payload_views import views


def identifier_forms(fld: str, value: str) -> dict[bytes, str]:
    """Lower-case byte forms of one identifier -> the name of the form."""
    forms: dict[bytes, str] = {value.encode(): "plain"}
    if fld == "mac":
        forms[value.replace(":", "-").encode()] = "plain"
        forms[value.replace(":", "").encode()] = "plain"
    forms.setdefault(value.encode().hex().encode(), "hex")
    forms.setdefault(value.upper().encode().hex().encode(), "hex")  # NetBIOS names travel upper-case
    for algo in ("md5", "sha1", "sha256"):
        forms[hashlib.new(algo, value.encode()).hexdigest().encode()] = algo
    return forms


# Tokens of a lower-cased view: runs of ``[0-9a-z_'.:-]`` (IP addresses, colon MACs) and runs of
# ``[0-9a-z_'-]`` (host-name words, hex, dash MACs, and the parts of dotted names such as ``ipad.local``).
_PART = re.compile(rb"[0-9a-z_'-]+")


def _token_table(chars: bytes) -> bytes:
    """A ``bytes.translate`` table that lower-cases A-Z, keeps ``chars`` and turns every other byte into a
    space, so that ``view.translate(table).split()`` equals ``re.findall(b"[chars]+", view.lower())``:
    two passes in C, several times faster than the regex scan (this is pii-leak's hottest line)."""
    table = bytearray(b" " * 256)
    for c in chars:
        table[c] = c
    for c in range(ord("A"), ord("Z") + 1):
        table[c] = c + 32
    return bytes(table)


_TOKEN_TABLE = _token_table(b"0123456789abcdefghijklmnopqrstuvwxyz_'.:-")
_PART_TABLE = _token_table(b"0123456789abcdefghijklmnopqrstuvwxyz_'-")


class _Matcher:
    """Finds known identifiers in a view by token look-up: two tokenizations and two set intersections,
    all in C, however many identifiers are known. An address does not match inside a longer one
    (192.168.1.2 is not in 192.168.1.20): tokens are whole. Host names that are not one token (with
    spaces, say) are searched as substrings; there are few."""

    def __init__(self, book: IdentifierBook) -> None:
        self.book = book
        self.done = 0  # identifiers of ``book.seen`` already turned into forms
        self.tokens: dict[bytes, tuple[str, str, str]] = {}
        self.hostnames: list[tuple[bytes, str]] = []

    def _update(self) -> None:
        seen = self.book.seen
        for fld, value in islice(seen, self.done, None):  # the identifiers learned since the last call
            for form, how in identifier_forms(fld, value).items():
                if fld != "hostname" or _PART.fullmatch(form):
                    self.tokens.setdefault(form, (fld, value, how))
                else:
                    self.hostnames.append((form, value))
        self.done = len(seen)

    def find(self, data: bytes) -> set[tuple[str, str, str]]:
        if self.done != len(self.book.seen):
            self._update()
        keys = self.tokens.keys()
        found = (keys & data.translate(_TOKEN_TABLE).split()) | (keys & data.translate(_PART_TABLE).split())
        hits = {self.tokens[t] for t in found}
        if self.hostnames:
            low = data.lower()
            for form, value in self.hostnames:
                if form in low:
                    hits.add(("hostname", value, "plain"))
        return hits


@dataclass
class _Flow:
    """The client bytes of one outbound TCP flow."""

    src_mac: str
    segments: dict[int, bytes] = field(default_factory=dict)
    size: int = 0
    last_ts: float = 0.0
    tls: bool = False


class PiiLeakDetector(Detector):
    """Home identifiers (MAC, hostname, IP) found in outbound payloads, under common encodings."""

    name = "pii-leak"
    category = "exfil"
    frame_kinds = frozenset(("arp", "tcp", "udp"))

    def __init__(self, depth: int = 2, min_hostname_len: int = 4, max_flow_bytes: int = 1 << 20,
                 min_identifiers: int = 1, skip_tls: bool = True) -> None:
        self.depth = depth
        self.min_hostname_len = min_hostname_len
        self.max_flow_bytes = max_flow_bytes
        self.min_identifiers = min_identifiers
        self.skip_tls = skip_tls

    def watch(self) -> Watch:
        book = IdentifierBook(self.min_hostname_len)
        matcher = _Matcher(book)
        alerts = []
        flows: dict[tuple, _Flow] = {}
        local: dict[str, bool] = {}
        max_bytes = self.max_flow_bytes

        def analyse(key: tuple, data: bytes, ts: float, src_mac: str, proto: int) -> None:
            found: dict[tuple[str, str], set[str]] = {}
            for path, view in views(data, self.depth, bodies=False):
                for fld, value, how in matcher.find(view):
                    enc = path if how == "plain" else (how if path == "plain" else f"{path}>{how}")
                    found.setdefault((fld, value), set()).add(enc)
            if len(found) < self.min_identifiers:
                return
            src, sport, dst, dport = key
            fields = sorted({fld for fld, _ in found})
            first = max(book.seen[k] for k in found)
            summary = []
            for fld in fields:
                encs = sorted({e for (f2, _), es in found.items() if f2 == fld for e in es})
                n = sum(1 for f2, _ in found if f2 == fld)
                summary.append(f"{fld} x{n} ({', '.join(encs)})")
            alerts.append(self._alert(
                ts=max(ts, first), src_ip=src, src_mac=src_mac, dst={"ip": dst, "port": dport},
                proto="tcp" if proto == PROTO_TCP else "udp",
                community_id=community_id(proto, src, dst, sport, dport), score=float(len(found)),
                fields=fields, message="home identifiers in outbound payload: " + "; ".join(summary),
            ))

        def close(key: tuple) -> None:
            fl = flows.pop(key)
            if fl.segments and not fl.tls:
                data = b"".join(fl.segments[s] for s in sorted(fl.segments))
                analyse(key, data, fl.last_ts, fl.src_mac, PROTO_TCP)

        arp_senders = book.arp_senders
        skip_tls = self.skip_tls
        while (f := (yield)) is not None:
            proto = f.ip_proto
            if proto != PROTO_TCP and proto != PROTO_UDP:
                # ARP (the other kind this detector asks for): sweeps repeat the same senders, and only
                # a sender not seen before teaches anything.
                if (f.arp_sha, f.arp_spa) not in arp_senders:
                    book.learn(f)
                continue
            src, dst = f.ip_src, f.ip_dst
            ls = local.get(src)
            if ls is None:
                ls = local[src] = is_local_ip(src)
            ld = local.get(dst)
            if ld is None:
                ld = local[dst] = is_local_ip(dst)
            if ls and not ld:  # outbound
                key = (src, f.sport, dst, f.dport)
                if proto == PROTO_UDP:
                    if f.payload:
                        analyse(key, f.payload, f.ts, f.src_mac, PROTO_UDP)
                    continue
                fl = flows.get(key)
                if fl is None:
                    fl = flows[key] = _Flow(f.src_mac)
                p = f.payload
                if p and fl.size < max_bytes and f.tcp_seq not in fl.segments:
                    if not fl.segments and skip_tls and p[0] == 0x16:
                        fl.tls = True
                    fl.segments[f.tcp_seq] = p
                    fl.size += len(p)
                    fl.last_ts = f.ts
                if f.tcp_flags & (TCP_FIN | TCP_RST):
                    close(key)
            elif proto == PROTO_UDP:
                # learn() tests the ports too; testing them here saves a call for every DNS frame
                if f.sport in TEACHING_PORTS or f.dport in TEACHING_PORTS:
                    book.learn(f)
            elif ld and not ls and f.tcp_flags & TCP_RST:  # the server reset an outbound flow
                key = (dst, f.dport, src, f.sport)
                if key in flows:
                    close(key)
        for key in list(flows):
            close(key)
        return alerts
