"""The ``gozen`` profile: the behaviour reported of the Gozen Data service on Skyworth TVs (2021).

Every ``interval`` seconds (plus jitter) it sweeps the /24 with ARP, pings every live host for its
latency, asks each for its name (mDNS reverse PTR, NetBIOS NBSTAT), reads the neighbour Wi-Fi
networks, then resolves the collector's domain and uploads everything in one report.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from collector_mock.codec import ENCODING_HEADER, encode
from testbed.population.model import Tv
from testbed.sdk.report import build_report, report_bytes
from testbed.steps import (
    BeginCycle,
    Probe,
    ProbedHost,
    SeenNetwork,
    Sleep,
    Step,
    Sweep,
    Upload,
    UploadResult,
    WifiScan,
)

SDK_VERSION = "2.3.7"
RETRY_BASE_S = 30.0  # first back-off after a failed upload; doubles each time

Behaviour = Generator[Step, Any, None]


@dataclass(frozen=True)
class SdkContext:
    """What the SDK on one TV knows and may use: its TV, its home's subnet, its options and its RNG."""

    tv: Tv
    home: str
    subnet: str
    rng: random.Random

    @property
    def options(self) -> dict[str, Any]:
        return self.tv.sdk_options


def upload_port(options: dict[str, Any]) -> int:
    """The collector port the SDK connects to: HTTPS moves the default port 80 to 443."""
    port = int(options["collector"]["port"])
    return 443 if options["transport"] == "tls" and port == 80 else port


def gozen(ctx: SdkContext) -> Behaviour:
    """The Gozen-like collection loop. An honest SDK whose user opted out does nothing at all."""
    opts, rng = ctx.options, ctx.rng
    if ctx.tv.consent == "opted_out":
        return
    collector = opts["collector"]
    encoding = opts["encoding"]
    key = opts["aes_key"].encode()
    transport = opts["transport"]
    port = upload_port(opts)
    # What it tells the collector: the user's setting (it ignores an opt-out, but still reports it).
    claim = "opted_out" if ctx.tv.consent == "optout_ignored" else ctx.tv.consent
    interval, jitter = float(opts["interval"]), float(opts["jitter"])

    batch = int(opts.get("batch", 1))
    yield Sleep(float(opts["first_delay"]) + rng.uniform(0, jitter))
    cycle = 0
    seen_hosts: dict[str, ProbedHost] = {}
    seen_wifi: dict[str, SeenNetwork] = {}
    while True:
        cycle += 1
        collected_at = yield BeginCycle(cycle)
        hosts = yield Sweep(ctx.subnet)
        probed = yield Probe(tuple(hosts))
        wifi = yield WifiScan()
        # A batching SDK keeps the latest sighting of each host and network until it uploads.
        seen_hosts.update((h.mac, h) for h in probed)
        seen_wifi.update((n.bssid, n) for n in wifi)
        if cycle % batch:
            yield Sleep(max(1.0, interval + rng.uniform(-jitter, jitter)))
            continue
        report, leaks = build_report(
            ctx.tv, ctx.home, {"name": "gozen", "version": SDK_VERSION}, cycle, collected_at, claim,
            list(seen_hosts.values()), list(seen_wifi.values()), hash_ids=bool(opts.get("hash_ids", False)),
        )
        seen_hosts, seen_wifi = {}, {}
        # A deterministic IV from the SDK's own stream keeps the capture reproducible.
        body = encode(report_bytes(report), encoding, key=key, iv=rng.randbytes(16))
        content_type = "application/json" if encoding == "json" else "application/octet-stream"
        headers = (
            ("User-Agent", f"GozenSDK/{SDK_VERSION} (Linux; Android 9; {ctx.tv.device.model})"),
            ("Content-Type", content_type),
            (ENCODING_HEADER, encoding),
        )
        waited = 0.0
        for attempt in range(1, int(opts["retries"]) + 2):
            result: UploadResult = yield Upload(
                collector["domain"], port, collector["path"], body, headers, transport,
                resolve=True, attempt=attempt, encoding=encoding, leaks=leaks,
            )
            if result.ok:
                break
            backoff = RETRY_BASE_S * 2 ** (attempt - 1) * rng.uniform(0.8, 1.2)
            if attempt <= int(opts["retries"]):
                waited += backoff
                yield Sleep(backoff)
        yield Sleep(max(1.0, interval - waited + rng.uniform(-jitter, jitter)))
