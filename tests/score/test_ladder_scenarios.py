"""The evasion-ladder scenarios: valid, and the same homes at every level (only the SDK differs)."""

from __future__ import annotations

from pathlib import Path

from testbed.population import build_population
from testbed.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
LEVELS = ("l0-plain", "l1-gzip", "l2-base64", "l3-aes", "l4-tls", "l5-hashed", "l6-first-party")


def _ladder():
    return {p.stem: load_scenario(p) for p in sorted(SCENARIOS.glob("ladder-*.yaml"))}


def test_every_level_and_the_benign_control_exist_and_validate():
    ladder = _ladder()
    assert set(ladder) == {f"ladder-{lv}" for lv in LEVELS} | {"ladder-benign"}
    assert ladder["ladder-benign"].tvs.sdk is None
    for name, sc in ladder.items():
        assert sc.name == name.lower() and sc.benign.scanner_app == 0.3


def test_levels_share_seed_homes_and_devices():
    ladder = _ladder()
    base = ladder["ladder-l0-plain"]
    for sc in ladder.values():
        assert (sc.seed, sc.start, sc.duration, sc.households, sc.benign) == (
            base.seed, base.start, base.duration, base.households, base.benign)
        assert (sc.tvs.vendor, sc.tvs.models, sc.tvs.per_household) == (
            base.tvs.vendor, base.tvs.models, base.tvs.per_household)
    # The populations agree device by device (the SDK options aside).
    def homes(sc):
        return [(h.subnet, h.router, h.devices, h.wifi) for h in build_population(sc).households]

    assert all(homes(sc) == homes(base) for sc in (ladder["ladder-l6-first-party"], ladder["ladder-benign"]))


def test_the_ladder_climbs():
    sdk = {k: v.tvs.sdk for k, v in _ladder().items()}
    assert sdk["ladder-l0-plain"].encoding == "json" and sdk["ladder-l0-plain"].transport == "http"
    assert "aes" in sdk["ladder-l3-aes"].encoding and sdk["ladder-l3-aes"].transport == "http"
    assert sdk["ladder-l4-tls"].transport == "tls" and sdk["ladder-l4-tls"].collector.domain == "gz-data.com"
    l5 = sdk["ladder-l5-hashed"]
    assert l5.hash_ids and l5.batch == 3 and l5.jitter >= 240
    l6 = sdk["ladder-l6-first-party"]
    assert l6.transport == "tls" and l6.hash_ids and l6.collector.domain == "log.tv.skyworthdigital.com"
    assert l6.collector.ip != sdk["ladder-l0-plain"].collector.ip
