"""Subnets, IPs and MACs: realistic, and unique within a run (all homes share one capture)."""

from __future__ import annotations

import ipaddress
import random

import pytest

from testbed.population import build_population
from testbed.population.lan import ROUTER_SUBNETS, assign_hosts, fallback_subnet, host_ip
from testbed.population.macs import NIC_SPACE, draw_mac, is_randomised, nic_bits
from testbed.population.vendors import MAKERS, maker_named
from tests.population.conftest import make_scenario

PREFERRED = {subnet for choices in ROUTER_SUBNETS.values() for subnet, _ in choices}


def _all_devices(population):
    return [d for h in population.households for d in (h.router, *h.devices)]


def test_subnets_are_unique_within_a_run(mixed_population):
    subnets = [h.subnet for h in mixed_population.households]
    assert len(set(subnets)) == len(subnets)


def test_subnet_rule_first_preference_wins_then_fallback(mixed_population):
    seen: set[str] = set()
    for h in mixed_population.households:
        if h.subnet in PREFERRED:
            assert h.subnet not in seen  # the first household to prefer it
            seen.add(h.subnet)
        else:
            assert h.subnet == fallback_subnet(h.index) == f"10.{1 + h.index // 256}.{h.index % 256}.0/24"
    assert len(seen) >= 5  # several brands' defaults are represented


def test_router_brand_sets_the_preferred_subnet(mixed_population):
    for h in mixed_population.households:
        maker = maker_named(h.router.vendor)
        if h.subnet in PREFERRED and maker in ROUTER_SUBNETS:
            assert h.subnet in {s for s, _ in ROUTER_SUBNETS[maker]}


def test_every_ip_is_a_host_of_its_household_subnet(mixed_population):
    for h in mixed_population.households:
        net = ipaddress.ip_network(h.subnet)
        assert h.router.ip == str(net.network_address + 1)
        ips = [d.ip for d in h.devices]
        assert len(set(ips)) == len(ips)
        for ip in ips:
            addr = ipaddress.ip_address(ip)
            assert addr in net and 2 <= int(addr) - int(net.network_address) <= 254


def test_ips_are_unique_within_a_run(mixed_population):
    ips = [d.ip for d in _all_devices(mixed_population)]
    assert len(set(ips)) == len(ips)


def test_dhcp_pool_starts_at_100_with_some_static_low_addresses(mixed_population):
    hosts = [int(d.ip.rsplit(".", 1)[1]) for h in mixed_population.households for d in h.devices]
    assert sum(h >= 100 for h in hosts) / len(hosts) > 0.9
    low = [d for h in mixed_population.households for d in h.devices if int(d.ip.rsplit(".", 1)[1]) < 100]
    assert low and {d.kind for d in low} <= {"printer", "camera", "desktop"}


def test_fallback_subnets_are_distinct_and_never_a_preferred_one():
    subnets = [fallback_subnet(i) for i in range(0, 100_000, 7)]
    assert len(set(subnets)) == len(subnets)
    assert not PREFERRED & set(subnets)
    assert all(ipaddress.ip_network(s).is_private for s in subnets)
    assert fallback_subnet(0) == "10.1.0.0/24" and fallback_subnet(65_279) == "10.255.255.0/24"
    assert fallback_subnet(65_280) == "172.16.0.0/24"


def test_assign_hosts_fills_a_crowded_lan_without_reserved_addresses():
    kinds = ["printer", "camera"] * 20 + ["phone"] * 160
    hosts = assign_hosts(random.Random(1), kinds)
    assert len(set(hosts)) == len(hosts) == 200
    assert all(2 <= h <= 254 for h in hosts)
    with pytest.raises(ValueError):
        host_ip("192.168.1.0/24", 255)


def test_macs_are_unique_within_a_run(mixed_population):
    macs = [d.mac for d in _all_devices(mixed_population)]
    macs += [w.bssid for h in mixed_population.households for w in h.wifi]
    assert len(set(macs)) == len(macs)


def test_macs_are_unicast_and_carry_the_vendor_oui_unless_randomised(mixed_population):
    for d in _all_devices(mixed_population):
        first = int(d.mac[:2], 16)
        assert not first & 0x01, d  # unicast
        if is_randomised(d.mac):
            assert d.kind in ("phone", "tablet") and d.os in ("ios", "android")
        else:
            maker = maker_named(d.vendor)
            owners = {k for k, m in MAKERS.items() if d.mac[:8] in m.ouis}
            assert owners and all(MAKERS[k].name == d.vendor for k in owners), (d.vendor, d.mac)
            assert maker is not None


def test_phones_and_tablets_randomise_their_mac_sometimes(mixed_population):
    mobile = [d for d in _all_devices(mixed_population) if d.kind in ("phone", "tablet") and d.os in ("ios", "android")]
    share = sum(is_randomised(d.mac) for d in mobile) / len(mobile)
    assert 0.3 < share < 0.5  # RANDOMISED_MAC_SHARE is 0.4


def test_nic_bits_is_a_permutation():
    values = {nic_bits(7, household, slot, 50) for household in range(400) for slot in range(50)}
    assert len(values) == 400 * 50 and max(values) < NIC_SPACE
    with pytest.raises(ValueError):
        nic_bits(7, 0, 50, 50)


def test_draw_mac_formats():
    rng = random.Random(3)
    assert draw_mac(rng, ("3c:22:fb",), 0x112233) == "3c:22:fb:11:22:33"
    private = draw_mac(rng, ("3c:22:fb",), 0x112233, randomised=True)
    assert is_randomised(private) and not int(private[:2], 16) & 1 and private.endswith(":11:22:33")


def test_tv_vendor_without_known_oui_gets_a_private_mac():
    population = build_population(make_scenario(count=3, tvs={"vendor": "NoSuchBrand"}))
    for h in population.households:
        assert all(is_randomised(tv.device.mac) and tv.device.vendor == "NoSuchBrand" for tv in h.tvs)
