#!/usr/bin/env python3
"""An example external detector for the ``command`` adapter: DNS queries seen by tshark.

Usage: tshark_dns_detector.py PCAP OUT [--domains CSV] [--min-entropy 3.5] [--min-label 12]

It flags DNS queries for names on a tracking-domain list (category ``tracking``; subdomains match) and
queries whose leftmost label is long and random-looking (Shannon entropy per character at least
``--min-entropy``: DNS tunnelling or encoded exfiltration; category ``exfil``). It writes one JSON alert
per line in the testbed's alert format. It uses only tshark and the standard library, so it stands in
for any third-party tool.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

DEFAULT_LIST = Path(__file__).resolve().parent.parent / "data" / "tracking_domains.csv"
FIELDS = ("frame.time_epoch", "eth.src", "ip.src", "ip.dst", "dns.qry.name")


def entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character."""
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values()) if s else 0.0


def listed(name: str, domains: set[str]) -> str | None:
    """The listed domain ``name`` falls under, or ``None``."""
    parts = name.lower().rstrip(".").split(".")
    for i in range(len(parts) - 1):
        d = ".".join(parts[i:])
        if d in domains:
            return d
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap")
    ap.add_argument("out")
    ap.add_argument("--domains", default=str(DEFAULT_LIST))
    ap.add_argument("--min-entropy", type=float, default=3.5)
    ap.add_argument("--min-label", type=int, default=12)
    ap.add_argument("--tshark", default="tshark")
    args = ap.parse_args(argv)
    with open(args.domains, encoding="utf-8") as f:
        domains = {row["domain"].strip().lower() for row in csv.DictReader(f)}
    cmd = [args.tshark, "-n", "-r", args.pcap, "-Y", "dns.flags.response == 0 && udp.dstport == 53",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for fld in FIELDS:
        cmd += ["-e", fld]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"tshark failed ({proc.returncode}): {proc.stderr.strip()}", file=sys.stderr)
        return 1
    n = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for line in proc.stdout.splitlines():
            ts, mac, src, dst, name = (line.split("\t") + [""] * 5)[:5]
            if not name:
                continue
            base = {"ts": float(ts), "detector": "tshark-dns", "src_ip": src or None, "src_mac": mac or None,
                    "dst": {"domain": name.lower(), "ip": dst}, "proto": "dns"}
            hit = listed(name, domains)
            label = name.split(".")[0]
            if hit:
                alert = {**base, "category": "tracking", "score": 1.0,
                         "message": f"DNS query for {name} (listed: {hit})"}
            elif len(label) >= args.min_label and entropy(label) >= args.min_entropy:
                alert = {**base, "category": "exfil", "score": round(entropy(label), 3),
                         "message": f"DNS query with a random-looking label ({entropy(label):.2f} bits/char)"}
            else:
                continue
            out.write(json.dumps(alert) + "\n")
            n += 1
    print(f"{n} alerts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
