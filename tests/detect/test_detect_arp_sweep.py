"""arp-sweep / arp-trw on the TV's sweeps, and on a benign scanner app (the hard negative)."""

from __future__ import annotations

from collections import defaultdict

from testbed.detect import make_detector, run_detectors

from .conftest import capture, device_ips, events, tv_ips


def _matched(alerts, evs) -> int:
    """Events with an alert whose ts lies in [start, end + 60 s]."""
    return sum(any(e["start"] <= a.ts <= e["end"] + 60 for a in alerts) for e in evs)


def test_fanout_finds_every_sweep_and_probe(plain_run):
    alerts = make_detector("arp-sweep").detect(capture(plain_run))
    tvs = tv_ips(plain_run)
    arp = [a for a in alerts if a.proto == "arp"]
    icmp = [a for a in alerts if a.proto == "icmp"]
    assert {a.src_ip for a in alerts} == tvs  # only the TVs sweep
    sweeps, probes = events(plain_run, "sweep"), events(plain_run, "probe")
    assert len(arp) == len(sweeps)  # one alert per sweep, not one per probe packet
    assert _matched(arp, sweeps) == len(sweeps)
    assert _matched(icmp, probes) >= 0.9 * len(probes)
    # it fires within the sweep, not after it: a sweep of a /24 lasts about 2 s
    assert all(any(e["start"] <= a.ts <= e["end"] for e in sweeps) for a in arp)


def test_trw_flags_sweeps_after_a_few_failures(plain_run):
    alerts = make_detector("arp-trw").detect(capture(plain_run))
    sweeps = events(plain_run, "sweep")
    assert {a.src_ip for a in alerts} == tv_ips(plain_run)
    assert len(alerts) == len(sweeps) and _matched(alerts, sweeps) == len(sweeps)
    # 4 unanswered first contacts (each x4 the likelihood ratio) pass eta1 = 99: well inside the sweep
    first = {e["id"]: min(a.ts for a in alerts if e["start"] <= a.ts <= e["end"] + 60) for e in sweeps}
    assert max(first[e["id"]] - e["start"] for e in sweeps) < 5.0


def test_benign_homes_raise_nothing(benign_run):
    a, b = run_detectors(capture(benign_run), [make_detector("arp-sweep"), make_detector("arp-trw")])
    assert a == [] and b == []  # the router's ARP refreshes are answered and slow


def test_scanner_app_is_a_hard_negative(scanner_run):
    cap = capture(scanner_run)
    naive, trw, periodic = run_detectors(cap, [
        make_detector("arp-sweep"), make_detector("arp-trw"), make_detector("arp-sweep,periodic=true")])
    phones = device_ips(scanner_run, "phone")
    # the naive detectors false-alarm on the Fing-like app (every frame here is benign)...
    assert naive and {a.src_ip for a in naive} <= phones
    assert trw and {a.src_ip for a in trw} <= phones
    # ...the periodic mode does not: the app's sweeps are rare and irregular
    assert periodic == []


def test_periodic_mode_waits_for_a_rhythm(plain_run):
    alerts = make_detector("arp-sweep,periodic=true").detect(capture(plain_run))
    per_tv = defaultdict(list)
    for a in alerts:
        if a.proto == "arp":
            per_tv[a.src_ip].append(a)
    sweeps_per_tv = defaultdict(int)
    for e in events(plain_run, "sweep"):
        sweeps_per_tv[e["tv"]] += 1
    assert set(per_tv) == tv_ips(plain_run)
    # silent on the first two sweeps (no rhythm yet), then one alert per sweep
    assert sorted(len(v) for v in per_tv.values()) == sorted(n - 2 for n in sweeps_per_tv.values())
