"""Devices and TVs: counts from the scenario, TVs with their SDK and consent, and network traits."""

from __future__ import annotations

from collections import Counter

from testbed.population import build_population
from testbed.population.vendors import MAKERS, maker_named
from testbed.scenario.model import DEVICE_KINDS
from tests.population.conftest import make_scenario


def test_device_counts_stay_within_the_configured_ranges(mixed_scenario, mixed_population):
    ranges = mixed_scenario.households.devices
    totals: Counter[str] = Counter()
    for h in mixed_population.households:
        counts = Counter(d.kind for d in h.devices if d.kind != "tv")
        for kind in DEVICE_KINDS:
            low, high = ranges[kind]
            assert low <= counts[kind] <= high, (h.id, kind, counts[kind])
        totals.update(counts)
    assert all(totals[kind] > 0 for kind in DEVICE_KINDS)


def test_only_configured_kinds_and_exact_ranges():
    population = build_population(make_scenario(count=5, households={"devices": {"phone": [2, 2], "printer": [1, 1]}}))
    for h in population.households:
        assert Counter(d.kind for d in h.devices) == {"phone": 2, "printer": 1, "tv": 1}


def test_ids_and_order(mixed_population):
    h = mixed_population.households[3]
    assert h.id == "h0003" and h.index == 3 and h.router.id == "h0003-router" and h.router.kind == "router"
    plain = [d for d in h.devices if d.kind != "tv"]
    assert [d.id for d in plain] == [f"h0003-d{i:02d}" for i in range(1, len(plain) + 1)]
    assert [tv.id for tv in h.tvs] == ["h0003-tv1"]


def test_tvs_are_devices_of_the_scenario_vendor(mixed_scenario, mixed_population):
    sdk = mixed_scenario.tvs.sdk
    for h in mixed_population.households:
        assert len(h.tvs) == mixed_scenario.tvs.per_household
        for tv in h.tvs:
            assert tv.device in h.devices and tv.id == tv.device.id
            assert tv.device.kind == "tv" and tv.device.vendor == "Skyworth"
            assert tv.device.model in mixed_scenario.tvs.models
            assert tv.device.mac[:8] in MAKERS["skyworth"].ouis
            assert tv.device.ssdp_type == "urn:dial-multiscreen-org:device:dial:1"
            assert "_googlecast._tcp.local" in tv.device.services
            assert tv.sdk == "gozen" and tv.consent == "not_asked"
            assert tv.sdk_options == sdk.model_dump(mode="json")


def test_consent_weights_are_respected_over_many_tvs():
    weights = {"not_asked": 0.5, "opted_in": 0.2, "opted_out": 0.2, "optout_ignored": 0.1}
    population = build_population(make_scenario(count=400, tvs={"per_household": 2, "sdk": {"consent": weights}}))
    consents = Counter(tv.consent for h in population.households for tv in h.tvs)
    total = sum(consents.values())
    assert total == 800
    for state, weight in weights.items():
        assert abs(consents[state] / total - weight) < 0.05, (state, consents)


def test_zero_weight_state_never_drawn_and_fixed_state_exact():
    population = build_population(make_scenario(count=50, tvs={"sdk": {"consent": {"opted_in": 1.0, "opted_out": 0.0}}}))
    assert {tv.consent for h in population.households for tv in h.tvs} == {"opted_in"}
    population = build_population(make_scenario(count=50, tvs={"sdk": {"consent": "optout_ignored"}}))
    assert {tv.consent for h in population.households for tv in h.tvs} == {"optout_ignored"}


def test_no_sdk_means_sdk_none():
    population = build_population(make_scenario(count=5, tvs={"sdk": None, "vendor": "TCL", "models": ["55C715"]}))
    for h in population.households:
        for tv in h.tvs:
            assert tv.sdk is None and tv.sdk_options == {} and tv.consent == "not_asked"
            assert tv.device.vendor == "TCL" and tv.device.model == "55C715"
            assert tv.device.mac[:8] in MAKERS[maker_named("TCL")].ouis


def test_households_without_tvs():
    population = build_population(make_scenario(count=3, tvs={"per_household": 0}))
    assert all(not h.tvs and all(d.kind != "tv" for d in h.devices) for h in population.households)


def test_links_and_delays_are_plausible(mixed_population):
    devices = [d for h in mixed_population.households for d in (h.router, *h.devices)]
    for d in devices:
        assert d.link in ("wifi", "wired")
        assert d.rtt_ms > 0 and d.rtt_jitter_ms > 0
        if d.link == "wired":
            assert 0.3 <= d.rtt_ms <= 1.0
        else:
            assert 1.5 <= d.rtt_ms <= 100
        if d.kind in ("phone", "tablet", "plug", "camera"):
            assert d.link == "wifi" or d.vendor in ("Hikvision", "Dahua")
    by_kind = Counter((d.kind, d.link) for d in devices)
    assert by_kind["desktop", "wired"] > by_kind["desktop", "wifi"]
    assert by_kind["router", "wired"] == len(mixed_population.households)
    sleepy = [d for d in devices if d.kind == "phone" and d.rtt_ms >= 30]
    assert 0.15 < len(sleepy) / sum(1 for d in devices if d.kind == "phone") < 0.45


def test_services_ssdp_and_netbios(mixed_population):
    devices = [d for h in mixed_population.households for d in (h.router, *h.devices)]
    for d in devices:
        if d.os == "windows":
            assert d.netbios and d.services == ()
        if d.kind == "printer":
            assert {"_ipp._tcp.local", "_printer._tcp.local"} <= set(d.services) and d.ssdp_type
        if d.kind == "router":
            assert d.ssdp_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
        if d.os in ("ios", "macos"):
            assert "_companion-link._tcp.local" in d.services
        if d.os == "android" and d.kind == "phone":
            assert d.services == () and not d.netbios


def test_away_windows_for_portable_devices_only(mixed_population):
    devices = [d for h in mixed_population.households for d in h.devices]
    for d in devices:
        if d.kind not in ("phone", "laptop", "tablet"):
            assert d.away == ()
        for start, end in d.away:
            assert 6.0 <= start < end <= 20.0
    phones = [d for d in devices if d.kind == "phone"]
    assert 0.4 < sum(bool(d.away) for d in phones) / len(phones) < 0.9
