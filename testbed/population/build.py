"""Expand a validated scenario into households: the people, devices, TVs and Wi-Fi that can leak.

Each household draws from its own streams (``testbed.rng.stream(seed, index, purpose)``), one per
purpose, so that changing how one part is drawn (say, neighbour Wi-Fi) leaves the others as they were:

    population:lan        locale, router, preferred subnet, router MAC and name
    population:people     the Faker seed, the members' daily absences
    population:devices    device counts, models, links, delays, MACs, names
    population:tvs        TV models, consent, links, MACs, names
    population:addresses  IP addresses
    population:wifi       neighbour networks and the home's own SSID

A household therefore depends only on (scenario, index), except its subnet, which is unique in the run
(see ``testbed.population.lan``): ``build_population`` builds in index order and passes on which subnets
are taken; ``build_household`` alone recomputes that from the lower households' preferences.
Dictionaries from the scenario (locales, device ranges, consent weights) are read in a fixed order, so
the order of keys in the YAML file does not change the population.
"""

from __future__ import annotations

import random
from itertools import accumulate
from typing import Any

from testbed.population.hostnames import NameContext, deduplicate, dns_label, hostname
from testbed.population.lan import assign_hosts, host_ip, preferred_subnet, resolve_subnet
from testbed.population.links import draw_link, draw_rtt
from testbed.population.macs import draw_mac, nic_bits
from testbed.population.model import Device, Household, Population, Tv
from testbed.population.people import Person, draw_people, neighbour_name, seeded_faker
from testbed.population.vendors import (
    MAKERS,
    MODELS,
    RANDOMISED_MAC_SHARE,
    REGIONS,
    ROUTER_MODELS,
    DeviceModel,
    maker_named,
    region_of,
)
from testbed.population.wifi import neighbour_networks, own_ssid
from testbed.rng import stream
from testbed.scenario.model import CONSENT_STATES, DEVICE_KINDS, Scenario

_TV_SERVICES = ("_androidtvremote2._tcp.local", "_googlecast._tcp.local")
_TV_SSDP = "urn:dial-multiscreen-org:device:dial:1"
_AWAY_SHARE = {"phone": 1.0, "laptop": 0.5, "tablet": 0.2}  # how often a device leaves with its owner


def build_population(scenario: Scenario) -> Population:
    """Every household of the scenario, in index order (subnets unique within the run)."""
    taken: set[str] = set()
    households = []
    for index in range(scenario.households.count):
        household = build_household(scenario, index, taken)
        taken.add(household.subnet)
        households.append(household)
    return Population(seed=scenario.seed, households=tuple(households))


def build_household(scenario: Scenario, index: int, taken: set[str] | None = None) -> Household:
    """Household ``index`` (0-based). ``taken``: subnets of households 0..index-1 (not modified); if None,
    recomputed, so the result always equals the ``index``-th household of ``build_population``."""
    if taken is None:
        taken = _subnets_preferred_before(scenario, index)
    seed, hid = scenario.seed, f"h{index:04d}"
    lan_rng, locale, router_model, preferred = _lan_choices(scenario, index)
    subnet = resolve_subnet(preferred, index, taken)
    region = region_of(locale)
    slots = _Slots(scenario, index)

    device_rng = stream(seed, index, "population:devices")
    counts = [(kind, device_rng.randint(*scenario.households.devices[kind]))
              for kind in DEVICE_KINDS if kind in scenario.households.devices]
    people_rng = stream(seed, index, "population:people")
    fake = seeded_faker(locale, people_rng)
    phones = dict(counts).get("phone", 0)
    people = draw_people(fake, people_rng, locale, phones)

    router = _router(lan_rng, router_model, slots, region, hid)
    drafts = _devices(device_rng, counts, people, slots, region, hid)
    tv_rng = stream(seed, index, "population:tvs")
    tv_drafts, tv_extras = _tvs(tv_rng, scenario, slots, region, hid)
    drafts += tv_drafts

    names = deduplicate([router["hostname"]] + [d["hostname"] for d in drafts])
    router["hostname"] = names[0]
    hosts = assign_hosts(stream(seed, index, "population:addresses"), [d["kind"] for d in drafts])
    for draft, name, host in zip(drafts, names[1:], hosts, strict=True):
        draft["hostname"], draft["ip"] = name, host_ip(subnet, host)
    router["ip"] = host_ip(subnet, 1)
    devices = tuple(Device(**d) for d in drafts)
    by_id = {d.id: d for d in devices}
    tvs = tuple(Tv(id=tv_id, device=by_id[tv_id], **extra) for tv_id, extra in tv_extras)

    wifi_rng = stream(seed, index, "population:wifi")
    low, high = scenario.households.neighbour_wifi
    wifi = neighbour_networks(wifi_rng, hid, locale, wifi_rng.randint(low, high),
                              lambda maker: draw_mac(wifi_rng, MAKERS[maker].ouis, slots.next_wifi()),
                              lambda: neighbour_name(fake, locale))
    owner = people[0]
    ssid = own_ssid(wifi_rng, locale, router_model.maker, router["mac"], owner.first_ascii, owner.surname_ascii)
    return Household(id=hid, index=index, owner=owner.name, locale=locale, subnet=subnet, router=Device(**router),
                     devices=devices, tvs=tvs, wifi=wifi, own_ssid=ssid)


def _lan_choices(scenario: Scenario, index: int) -> tuple[random.Random, str, DeviceModel, str]:
    # The first draws of the "lan" stream; _subnets_preferred_before replays them for lower households.
    rng = stream(scenario.seed, index, "population:lan")
    locales = sorted(scenario.households.locales.items())
    locale = rng.choices([loc for loc, _ in locales], weights=[w for _, w in locales])[0]
    router_model = rng.choices(ROUTER_MODELS, cum_weights=_ROUTER_CUM_WEIGHTS[region_of(locale)])[0]
    return rng, locale, router_model, preferred_subnet(rng, router_model.maker)


def _subnets_preferred_before(scenario: Scenario, index: int) -> set[str]:
    # Household i keeps its preferred subnet iff no lower household preferred it (lan.py), so only the
    # lower households' preferences matter. There are few distinct ones: stop once ours is among them.
    _, _, _, mine = _lan_choices(scenario, index)
    seen: set[str] = set()
    for lower in range(index):
        seen.add(_lan_choices(scenario, lower)[3])
        if mine in seen:
            break
    return seen


class _Slots:
    """Numbers every MAC-bearing thing of a household (router 0, TVs, devices, then Wi-Fi), for
    ``macs.nic_bits``: the run-wide uniqueness of MACs rests on these never repeating in a household."""

    __slots__ = ("seed", "index", "size", "tv_base", "device_base", "wifi_base", "devices_used", "wifi_used")

    def __init__(self, scenario: Scenario, index: int) -> None:
        tvs = scenario.tvs.per_household
        max_devices = sum(high for _, high in scenario.households.devices.values())
        self.seed, self.index = scenario.seed, index
        self.tv_base, self.device_base = 1, 1 + tvs
        self.wifi_base = self.device_base + max_devices
        self.size = self.wifi_base + scenario.households.neighbour_wifi[1]
        self.devices_used = self.wifi_used = 0

    def nic(self, slot: int) -> int:
        return nic_bits(self.seed, self.index, slot, self.size)

    def next_device(self) -> int:
        self.devices_used += 1
        return self.nic(self.device_base + self.devices_used - 1)

    def next_wifi(self) -> int:
        self.wifi_used += 1
        return self.nic(self.wifi_base + self.wifi_used - 1)


def _cum_weights(models: tuple[DeviceModel, ...], region: str) -> tuple[float, ...]:
    r = REGIONS.index(region)
    return tuple(accumulate(m.weights[r] for m in models))


_MODEL_CUM_WEIGHTS = {
    (kind, region): _cum_weights(models, region) for kind, models in MODELS.items() for region in REGIONS
}
_ROUTER_CUM_WEIGHTS = {region: _cum_weights(ROUTER_MODELS, region) for region in REGIONS}


def _pick_model(rng: random.Random, kind: str, region: str) -> DeviceModel:
    return rng.choices(MODELS[kind], cum_weights=_MODEL_CUM_WEIGHTS[kind, region])[0]


def _router(rng: random.Random, model: DeviceModel, slots: _Slots, region: str, hid: str) -> dict[str, Any]:
    mac = draw_mac(rng, MAKERS[model.maker].ouis, slots.nic(0))
    rtt, jitter = draw_rtt(rng, "router", "wired")
    return dict(
        id=f"{hid}-router", kind="router", vendor=MAKERS[model.maker].name, model=model.model, os=model.os,
        hostname=hostname(model.naming, NameContext(rng, model.label, mac, None, "wired", region)),
        mac=mac, ip="", link="wired", rtt_ms=rtt, rtt_jitter_ms=jitter, services=model.services,
        ssdp_type=model.ssdp, netbios=False, away=(),
    )


def _devices(rng: random.Random, counts: list[tuple[str, int]], people: list[Person], slots: _Slots,
             region: str, hid: str) -> list[dict[str, Any]]:
    drafts: list[dict[str, Any]] = []
    for kind, count in counts:
        for k in range(count):
            model = _pick_model(rng, kind, region)
            # Phone k belongs to member k; other personal devices to anyone; the rest to the household.
            if kind == "phone":
                person: Person | None = people[k % len(people)]
            elif kind in ("tablet", "laptop") or model.os == "macos":
                person = rng.choice(people)
            else:
                person = None
            randomised = kind in ("phone", "tablet") and rng.random() < RANDOMISED_MAC_SHARE.get(model.os, 0.0)
            mac = draw_mac(rng, MAKERS[model.maker].ouis, slots.next_device(), randomised)
            link = draw_link(rng, kind, model.wired)
            rtt, jitter = draw_rtt(rng, kind, link)
            first = person.first_ascii if person else None
            away = person.away if person and rng.random() < _AWAY_SHARE.get(kind, 0.0) else ()
            drafts.append(dict(
                id=f"{hid}-d{len(drafts) + 1:02d}", kind=kind, vendor=MAKERS[model.maker].name, model=model.model,
                os=model.os, hostname=hostname(model.naming, NameContext(rng, model.label, mac, first, link, region)),
                mac=mac, ip="", link=link, rtt_ms=rtt, rtt_jitter_ms=jitter, services=model.services,
                ssdp_type=model.ssdp, netbios=rng.random() < model.netbios, away=away,
            ))
    return drafts


def _consent(rng: random.Random, scenario: Scenario) -> str:
    sdk = scenario.tvs.sdk
    if sdk is None:
        return "not_asked"  # no SDK: nothing to consent to
    if isinstance(sdk.consent, str):
        return sdk.consent
    weights = [sdk.consent.get(state, 0.0) for state in CONSENT_STATES]
    return rng.choices(CONSENT_STATES, weights=weights)[0]


def _tvs(rng: random.Random, scenario: Scenario, slots: _Slots, region: str,
         hid: str) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    tvs, sdk = scenario.tvs, scenario.tvs.sdk
    maker = maker_named(tvs.vendor)
    # A vendor without a known OUI gets a locally administered MAC rather than someone else's prefix.
    ouis = MAKERS[maker].ouis if maker else ()
    drafts, extras = [], []
    for n in range(1, tvs.per_household + 1):
        tv_id = f"{hid}-tv{n}"
        model = rng.choice(tvs.models) if tvs.models else "Smart TV"
        mac = draw_mac(rng, ouis, slots.nic(slots.tv_base + n - 1))
        link = draw_link(rng, "tv")
        rtt, jitter = draw_rtt(rng, "tv", link)
        label = dns_label(f"{tvs.vendor}-{model}")
        drafts.append(dict(
            id=tv_id, kind="tv", vendor=tvs.vendor, model=model, os="android",
            hostname=hostname("tv", NameContext(rng, label, mac, None, link, region)), mac=mac, ip="", link=link,
            rtt_ms=rtt, rtt_jitter_ms=jitter, services=_TV_SERVICES, ssdp_type=_TV_SSDP, netbios=False, away=(),
        ))
        extras.append((tv_id, dict(
            sdk=sdk.profile if sdk else None, consent=_consent(rng, scenario),
            sdk_options=sdk.model_dump(mode="json") if sdk else {},
        )))
    return drafts, extras
