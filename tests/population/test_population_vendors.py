"""Every OUI in the vendor table is registered (IEEE MA-L, via netaddr offline) to the maker it claims."""

from __future__ import annotations

import re

import netaddr
import pytest

from testbed.population.hostnames import STYLES as NAMING_STYLES
from testbed.population.lan import ROUTER_SUBNETS
from testbed.population.vendors import MAKERS, MODELS, REGIONS, ROUTER_MODELS, maker_named
from testbed.scenario.model import DEVICE_KINDS

# Registrants accepted for a maker whose name they do not contain (a subsidiary or the old company name).
ALIASES = {"Lenovo": ("LCFC",), "HP": ("Hewlett Packard",)}
# Contract manufacturers and NIC makers: their prefix would not say who made the device.
NEVER = re.compile(r"Hon Hai|Foxconn|Liteon|AzureWave|Intel Corporate|Realtek|Murata|Universal Global|Enterprise",
                   re.IGNORECASE)

ENTRIES = [(key, oui) for key, maker in MAKERS.items() for oui in maker.ouis]


def registrant(oui: str) -> str:
    return netaddr.EUI(f"{oui}:00:00:01").oui.registration().org


@pytest.mark.parametrize(("key", "oui"), ENTRIES, ids=[f"{k}-{o}" for k, o in ENTRIES])
def test_oui_is_registered_to_its_maker(key, oui):
    maker = MAKERS[key]
    org = registrant(oui)
    assert re.search(maker.registrant, org, re.IGNORECASE), f"{oui} is registered to {org!r}, not {maker.name}"
    names = (maker.name, *ALIASES.get(maker.name, ()))
    assert any(n.casefold() in org.casefold() for n in names), f"{oui}: {org!r} does not name {maker.name}"
    assert not NEVER.search(org), f"{oui}: {org!r} is a contract manufacturer or NIC maker"


def test_ouis_are_well_formed_unicast_global_and_listed_once():
    ouis = [oui for _, oui in ENTRIES]
    assert len(set(ouis)) == len(ouis)
    for oui in ouis:
        assert re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){2}", oui)
        assert int(oui[:2], 16) & 0x03 == 0  # unicast, globally administered


def test_table_is_large_enough():
    assert len(MAKERS) >= 30 and len(ENTRIES) >= 120
    assert all(len(m.ouis) >= 2 for k, m in MAKERS.items() if k not in ("konka", "changhong"))


def test_every_kind_has_models_with_weights_in_each_region():
    for kind in DEVICE_KINDS:
        models = MODELS[kind]
        for r, _ in enumerate(REGIONS):
            assert sum(m.weights[r] for m in models) > 0, (kind, REGIONS[r])
    for r, _ in enumerate(REGIONS):
        assert sum(m.weights[r] for m in ROUTER_MODELS) > 0


def test_models_refer_to_known_makers_and_naming_styles():
    for model in [m for models in MODELS.values() for m in models] + list(ROUTER_MODELS):
        assert model.maker in MAKERS, model
        assert model.naming in NAMING_STYLES, model
        assert all(w >= 0 for w in model.weights)
        assert all(s.startswith("_") and s.endswith(("._tcp.local", "._udp.local")) for s in model.services)
        assert model.wired is None or 0 <= model.wired <= 1


def test_router_brands_are_realistic_per_region():
    cn = {MAKERS[m.maker].name for m in ROUTER_MODELS if m.weights[0] > 0}
    intl = {MAKERS[m.maker].name for m in ROUTER_MODELS if m.weights[1] > 0}
    assert cn == {"TP-LINK", "Xiaomi", "Huawei", "MERCURY", "Tenda", "ZTE"}
    assert intl == {"NETGEAR", "TP-LINK", "ASUS", "Linksys", "eero", "Arris"}
    assert {m.maker for m in ROUTER_MODELS} <= set(ROUTER_SUBNETS)


def test_maker_named_is_case_insensitive():
    assert maker_named("Skyworth") == maker_named("SKYWORTH ") == "skyworth"
    assert maker_named("Sony") == "sony"  # TVs: Sony Corporation, not the PlayStation company
    assert maker_named("Unknown Brand") is None
