"""Neighbour Wi-Fi networks: SSID styles by locale, router-maker BSSIDs, valid channels and RSSI."""

from __future__ import annotations

import re
from collections import Counter

from testbed.population import build_population
from testbed.population.vendors import MAKERS
from tests.population.conftest import make_scenario

CN_DEFAULTS = re.compile(r"^(ChinaNet-|CMCC-|CU_|TP-LINK_|MERCURY_|FAST_|Xiaomi_|HUAWEI-|Tenda_)")
WESTERN = re.compile(r"^(NETGEAR\d|xfinitywifi|ATT|Linksys\d|SKY\d|BTHub6-|BT-|VM\d|FRITZ!Box|MySpectrumWiFi)")
OUI_OWNER = {oui: key for key, maker in MAKERS.items() for oui in maker.ouis}
CH5 = {36, 40, 44, 48, 52, 56, 60, 64, *range(100, 145, 4), 149, 153, 157, 161, 165}


def _style(ssid: str) -> str:
    """A coarse style key: the SSID's leading letters (``ChinaNet``, ``TP-LINK_5G``, ``NETGEAR``)."""
    return re.match(r"[A-Za-z!.' -]*", ssid).group(0)[:10]


def _networks(population, locale):
    return [w for h in population.households if h.locale == locale for w in h.wifi]


def test_chinese_homes_see_chinese_ssids():
    population = build_population(make_scenario(count=60, households={"locales": {"zh_CN": 1.0}}))
    ssids = [w.ssid for h in population.households for w in h.wifi]
    assert sum(bool(CN_DEFAULTS.match(s)) for s in ssids) / len(ssids) > 0.7
    assert not any(WESTERN.match(s) for s in ssids)
    prefixes = Counter(s.split("-")[0].split("_")[0] for s in ssids if CN_DEFAULTS.match(s))
    assert {"ChinaNet", "CMCC", "TP", "MERCURY", "Xiaomi", "HUAWEI"} <= set(prefixes)
    assert any(re.fullmatch(r"[a-z]+(-home|jia|\d{3})?(_5G)?", s) for s in ssids)  # pinyin names


def test_western_homes_see_western_ssids():
    population = build_population(make_scenario(count=60, households={"locales": {"en_US": 1.0}}))
    ssids = [w.ssid for h in population.households for w in h.wifi]
    assert not any(re.match(r"^(ChinaNet|CMCC|CU_|MERCURY|Tenda)", s) for s in ssids)
    assert {"xfinitywifi"} <= set(ssids)
    assert any(s.startswith("NETGEAR") for s in ssids) and any(s.startswith("The ") for s in ssids)
    assert len({_style(s) for s in ssids}) >= 10


def test_each_locale_has_its_own_mix(mixed_population):
    gb = [w.ssid for w in _networks(mixed_population, "en_GB")]
    de = [w.ssid for w in _networks(mixed_population, "de_DE")]
    assert any(s.startswith(("SKY", "BTHub6-", "BT-", "VM")) for s in gb)
    assert any(s.startswith(("FRITZ!Box", "Vodafone-", "WLAN-")) for s in de)


def test_vendor_suffix_is_taken_from_the_bssid(mixed_population):
    checked = 0
    for h in mixed_population.households:
        for w in h.wifi:
            match = re.fullmatch(r"(?:TP-LINK_|TP-Link_|Xiaomi_|HUAWEI-)([0-9A-F]{4})", w.ssid)
            if match:
                assert w.bssid.replace(":", "").upper().endswith(match.group(1)), w
                checked += 1
    assert checked > 20


def test_bssids_carry_router_maker_ouis(mixed_population):
    for h in mixed_population.households:
        for w in h.wifi:
            assert w.bssid[:8] in OUI_OWNER, w.bssid
            assert not int(w.bssid[:2], 16) & 0x03


def test_channels_bands_rssi_and_ids(mixed_population):
    for h in mixed_population.households:
        low, high = 4, 14  # scenario default
        assert low <= len(h.wifi) <= high
        assert [w.id for w in h.wifi] == [f"wifi-{h.id}-{i:02d}" for i in range(1, len(h.wifi) + 1)]
        for w in h.wifi:
            assert -90 <= w.rssi <= -40
            if w.band == "2.4GHz":
                assert 1 <= w.channel <= 13
                if h.locale == "en_US":
                    assert w.channel <= 11
            else:
                assert w.band == "5GHz" and w.channel in CH5
                if h.locale == "zh_CN":
                    assert not 100 <= w.channel <= 144
    bands = Counter(w.band for h in mixed_population.households for w in h.wifi)
    assert bands["5GHz"] > 0.15 * sum(bands.values())


def test_neighbour_wifi_count_follows_the_scenario():
    population = build_population(make_scenario(count=10, households={"neighbour_wifi": [0, 2]}))
    assert all(len(h.wifi) <= 2 for h in population.households)
    population = build_population(make_scenario(count=5, households={"neighbour_wifi": [20, 20]}))
    assert all(len(h.wifi) == 20 for h in population.households)


def test_own_ssid_follows_the_router_or_the_owner(mixed_population):
    own = [h.own_ssid for h in mixed_population.households]
    assert all(own) and len(set(own)) > 0.8 * len(own)
    for h in mixed_population.households:
        match = re.fullmatch(r"(?:TP-LINK_|Xiaomi_|HUAWEI-)([0-9A-F]{4})", h.own_ssid)
        if match:
            assert h.router.mac.replace(":", "").upper().endswith(match.group(1))
