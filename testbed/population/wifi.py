"""Wi-Fi networks around a home (what a TV's scan sees and the SDK uploads), and the home's own SSID.

Names follow the defaults that routers and ISP gateways really ship with, by country: China Telecom's
``ChinaNet-xK9d``, China Mobile's ``CMCC-7F3A``, ``TP-LINK_5G_3A2F``, ``Xiaomi_8A2C``; ``NETGEAR42``,
``xfinitywifi``, ``SKY12345``, ``BTHub6-XXXX``, ``FRITZ!Box 7590 XY``; plus names people choose
(``zhangwei-home``, ``The Smiths``, ``Pretty Fly for a WiFi``). Where a brand derives the suffix from the
router's MAC (TP-LINK, Xiaomi, Huawei, Tenda, ASUS), it is taken from the BSSID, as on real routers.
The BSSID's OUI is the router maker's (``vendors.MAKERS``).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from testbed.population.model import WifiNetwork

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits

# 2.4 GHz: channels 1-13 (1-11 in North America), most networks on the non-overlapping 1, 6 and 11.
_CH24 = {"cn": range(1, 14), "us": range(1, 12)}
# 5 GHz: China allows UNII-1/2 and UNII-3 only; elsewhere UNII-2e (100-144) too.
_CH5 = {
    "cn": (36, 40, 44, 48, 52, 56, 60, 64, 149, 153, 157, 161, 165),
    "other": (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
              149, 153, 157, 161, 165),
}
_FUNNY = ("Pretty Fly for a WiFi", "FBI Surveillance Van", "Bill Wi the Science Fi", "It Hurts When IP",
          "LAN Solo", "Abraham Linksys", "The LAN Before Time", "Wu-Tang LAN", "Get Off My LAN",
          "Tell My WiFi Love Her", "Router? I Hardly Know Her")


@dataclass(slots=True)  # not frozen: one is made per name, and frozen init is slower
class SsidContext:
    """What a naming style may use."""

    rng: random.Random
    bssid: str
    first: str | None  # the network owner's first name in ASCII
    surname: str | None

    def tail(self, digits: int) -> str:
        """The last hex digits of the BSSID, upper case (``TP-LINK_3A2F``)."""
        return self.bssid.replace(":", "").upper()[-digits:]

    def chars(self, alphabet: str, n: int) -> str:
        """``n`` random characters."""
        return "".join(self.rng.choices(alphabet, k=n))


Names = tuple[str, str | None]  # (2.4 GHz SSID, 5 GHz SSID or None if single-band)


@dataclass(frozen=True, slots=True)
class SsidStyle:
    """One way networks get named, how common it is, and which makers' routers carry it."""

    weight: float
    makers: tuple[str, ...]  # BSSID makers (keys of vendors.MAKERS)
    names: Callable[[SsidContext], Names]
    personal: bool = False  # chosen by a person rather than a factory default


def _suffixed(prefix: str, digits: int, five: str) -> Callable[[SsidContext], Names]:
    # "{prefix}{tail}" and a 5 GHz twin built by ``five`` from prefix and tail.
    def names(ctx: SsidContext) -> Names:
        tail = ctx.tail(digits)
        return f"{prefix}{tail}", five.format(prefix=prefix, tail=tail)

    return names


def _isp(prefix: str, alphabet: str, sep: str) -> Callable[[SsidContext], Names]:
    def names(ctx: SsidContext) -> Names:
        base = f"{prefix}{ctx.chars(alphabet, 4)}"
        return base, f"{base}{sep}5G"

    return names


def _mercury(ctx: SsidContext) -> Names:
    tail = ctx.tail(4)
    return (f"MERCURY_{tail}" if ctx.rng.random() < 0.5 else f"MERCURY_2.4G_{tail}"), f"MERCURY_5G_{tail}"


def _pinyin(ctx: SsidContext) -> Names:
    sur = (ctx.surname or "").lower()
    given = (ctx.first or "").lower()
    if not sur and not given:
        sur = ctx.rng.choice(("wo", "jia", "home"))
    lucky = ctx.rng.choice(("666", "888", "520", "123"))  # numbers people like in Wi-Fi names
    base = ctx.rng.choice((f"{sur}{given}-home", f"{sur}{given}", f"{sur or given}jia", f"{sur or given}{lucky}"))
    return base, f"{base}_5G"


def _family(ctx: SsidContext) -> Names:
    sur, first = ctx.surname, ctx.first
    options = [f"{ctx.rng.choice(('Home', 'Casa', 'Wi-Fi'))}{ctx.chars(string.digits, 2)}"]
    if sur:
        options += [f"The {sur}s", f"{sur} Family", f"{sur}-WiFi", f"{sur}Home"]
    if first:
        options.append(f"{first}'s Wi-Fi Network")
    base = ctx.rng.choice(options)
    return base, f"{base}-5G"


def _funny(ctx: SsidContext) -> Names:
    base = ctx.rng.choice(_FUNNY)
    return base, f"{base} 5G"


def _netgear(ctx: SsidContext) -> Names:
    base = f"NETGEAR{ctx.rng.randrange(100):02d}"
    return base, f"{base}-5G"


def _att(ctx: SsidContext) -> Names:
    base = f"ATT{ctx.rng.choice(string.digits)}{ctx.chars(_ALNUM, ctx.rng.choice((3, 6)))}"
    return base, base


def _linksys(ctx: SsidContext) -> Names:
    base = f"Linksys{ctx.rng.randrange(10**5):05d}"
    return base, f"{base}_5GHz"


def _spectrum(ctx: SsidContext) -> Names:
    base = f"MySpectrumWiFi{ctx.tail(2).lower()}"
    return f"{base}-2G", f"{base}-5G"


def _fritzbox(ctx: SsidContext) -> str:
    model = ctx.rng.choice(("7590", "7530", "7490", "6591 Cable"))
    return f"FRITZ!Box {model} {ctx.chars(string.ascii_uppercase, 2)}"


def _same(make: Callable[[SsidContext], str]) -> Callable[[SsidContext], Names]:
    # One name on both bands (ISP hubs with band steering).
    def names(ctx: SsidContext) -> Names:
        base = make(ctx)
        return base, base

    return names


def _single(make: Callable[[SsidContext], str]) -> Callable[[SsidContext], Names]:
    def names(ctx: SsidContext) -> Names:
        return make(ctx), None

    return names


_CN_GATEWAYS = ("zte", "huawei", "fiberhome")
_CN_ROUTERS = ("tp-link", "mercury", "huawei", "xiaomi-iot", "tenda")
_TP_LINK_INTL = SsidStyle(0.10, ("tp-link",), _suffixed("TP-Link_", 4, "{prefix}{tail}_5G"))
_NETGEAR = SsidStyle(0.08, ("netgear",), _netgear)
_HUAWEI_INTL = SsidStyle(0.03, ("huawei",), _suffixed("HUAWEI-", 4, "{prefix}{tail}_5G"))
_DIRECT = SsidStyle(0.03, ("hp",), _single(lambda c: f"DIRECT-{c.chars(_ALNUM, 2)}-HP OfficeJet Pro 9010"))


def _personal(makers: tuple[str, ...], family: float, funny: float) -> tuple[SsidStyle, ...]:
    return (SsidStyle(family, makers, _family, personal=True), SsidStyle(funny, makers, _funny, personal=True))


STYLES: dict[str, tuple[SsidStyle, ...]] = {
    "cn": (
        SsidStyle(0.18, _CN_GATEWAYS, _isp("ChinaNet-", _ALNUM, "-")),
        SsidStyle(0.14, _CN_GATEWAYS, _isp("CMCC-", _UPPER_ALNUM, "-")),
        SsidStyle(0.06, _CN_GATEWAYS, _isp("CU_", _ALNUM, "_")),
        SsidStyle(0.16, ("tp-link",), _suffixed("TP-LINK_", 4, "TP-LINK_5G_{tail}")),
        SsidStyle(0.08, ("mercury",), _mercury),
        # FAST is a TP-LINK sister brand; its routers carry TP-LINK prefixes.
        SsidStyle(0.05, ("tp-link",), _suffixed("FAST_", 4, "FAST_5G_{tail}")),
        SsidStyle(0.08, ("xiaomi-iot",), _suffixed("Xiaomi_", 4, "{prefix}{tail}_5G")),
        SsidStyle(0.08, ("huawei",), _suffixed("HUAWEI-", 4, "{prefix}{tail}_5G")),
        SsidStyle(0.04, ("tenda",), _suffixed("Tenda_", 6, "{prefix}{tail}_5G")),
        SsidStyle(0.13, _CN_ROUTERS, _pinyin, personal=True),
    ),
    "us": (
        _NETGEAR, _TP_LINK_INTL, _DIRECT, _HUAWEI_INTL,
        SsidStyle(0.10, ("arris",), _same(lambda c: "xfinitywifi")),
        SsidStyle(0.08, ("arris",), _att),
        SsidStyle(0.06, ("arris",), _spectrum),
        SsidStyle(0.07, ("linksys",), _linksys),
        SsidStyle(0.05, ("asus",), _suffixed("ASUS_", 2, "{prefix}{tail}_5G")),
        *_personal(("eero", "netgear", "tp-link", "asus", "linksys"), 0.18, 0.06),
    ),
    "gb": (
        _NETGEAR, _TP_LINK_INTL, _DIRECT, _HUAWEI_INTL,
        SsidStyle(0.18, ("sky",), _same(lambda c: f"SKY{c.rng.randrange(10**5):05d}")),
        SsidStyle(0.10, ("arcadyan",), _same(lambda c: f"BTHub6-{c.chars(_UPPER_ALNUM, 4)}")),
        SsidStyle(0.08, ("arcadyan",), _same(lambda c: f"BT-{c.chars(_UPPER_ALNUM, 6)}")),
        SsidStyle(0.06, ("arcadyan",), _single(lambda c: "BTWi-fi")),
        SsidStyle(0.10, ("arris",), _same(lambda c: f"VM{c.rng.randrange(10**7):07d}")),
        SsidStyle(0.05, ("huawei",), _same(lambda c: f"TALKTALK{c.tail(6)}")),
        *_personal(("tp-link", "netgear", "asus"), 0.12, 0.05),
    ),
    "de": (
        _NETGEAR, _TP_LINK_INTL, _DIRECT,
        SsidStyle(0.30, ("avm",), _same(_fritzbox)),
        SsidStyle(0.12, ("arcadyan",), _same(lambda c: f"Vodafone-{c.chars(_UPPER_ALNUM, 4)}")),
        SsidStyle(0.12, ("arcadyan",), _same(lambda c: f"WLAN-{c.rng.randrange(10**6):06d}")),
        SsidStyle(0.05, ("zte",), _same(lambda c: f"o2-WLAN{c.rng.randrange(100):02d}")),
        *_personal(("avm", "tp-link", "netgear"), 0.14, 0.04),
    ),
    "intl": (
        _NETGEAR, _TP_LINK_INTL, _DIRECT, _HUAWEI_INTL,
        SsidStyle(0.07, ("linksys",), _linksys),
        SsidStyle(0.06, ("asus",), _suffixed("ASUS_", 2, "{prefix}{tail}_5G")),
        SsidStyle(0.04, ("arcadyan",), _same(lambda c: f"Vodafone-{c.chars(_UPPER_ALNUM, 4)}")),
        *_personal(("tp-link", "netgear", "asus", "linksys"), 0.20, 0.06),
    ),
}


_CUM_WEIGHTS = {region: tuple(accumulate(s.weight for s in styles)) for region, styles in STYLES.items()}


def ssid_region(locale: str) -> str:
    """The key of ``STYLES`` for a Faker locale."""
    if locale == "zh_CN":
        return "cn"
    if locale == "en_US":
        return "us"
    if locale == "en_GB":
        return "gb"
    if locale.startswith("de_"):
        return "de"
    return "intl"


def _channel(rng: random.Random, region: str, band: str) -> int:
    if band == "5GHz":
        return rng.choice(_CH5["cn" if region == "cn" else "other"])
    if rng.random() < 0.7:
        return rng.choice((1, 6, 11))
    return rng.choice(_CH24.get(region, _CH24["cn"]))


def _rssi(rng: random.Random, band: str) -> int:
    # Neighbours are mostly weak; 5 GHz fades faster through walls.
    mode = -80 if band == "5GHz" else -76
    return max(-90, min(-40, round(rng.triangular(-90, -40, mode))))


def neighbour_networks(
    rng: random.Random,
    household_id: str,
    locale: str,
    count: int,
    bssid_for: Callable[[str], str],
    neighbour: Callable[[], tuple[str | None, str | None]],
) -> tuple[WifiNetwork, ...]:
    """``count`` neighbour networks. ``bssid_for(maker)`` gives a unique BSSID with that maker's OUI;
    ``neighbour()`` the (first, surname) ASCII name of someone who named their network after themselves."""
    region = ssid_region(locale)
    styles, cum_weights = STYLES[region], _CUM_WEIGHTS[region]
    networks: list[WifiNetwork] = []
    while len(networks) < count:
        style = rng.choices(styles, cum_weights=cum_weights)[0]
        first, surname = neighbour() if style.personal else (None, None)
        maker = rng.choice(style.makers)
        bssid = bssid_for(maker)
        name24, name5 = style.names(SsidContext(rng, bssid, first, surname))
        bands: list[tuple[str, str]] = [("2.4GHz", name24)]
        if name5 is not None:
            roll = rng.random()
            if roll < 0.25:
                bands = [("5GHz", name5)]
            elif roll < 0.5 and count - len(networks) >= 2:
                bands.append(("5GHz", name5))  # a dual-band router: both radios are heard
        for i, (band, ssid) in enumerate(bands):
            network_bssid = bssid if i == 0 else bssid_for(maker)
            networks.append(WifiNetwork(
                id=f"wifi-{household_id}-{len(networks) + 1:02d}", ssid=ssid, bssid=network_bssid,
                channel=_channel(rng, region, band), rssi=_rssi(rng, band), band=band))
    return tuple(networks)


def own_ssid(rng: random.Random, locale: str, router_maker: str, router_mac: str,
             first: str | None, surname: str | None) -> str:
    """The home's own network name: the router's factory default, or one the owner chose."""
    styles = STYLES[ssid_region(locale)]
    defaults = [s for s in styles if not s.personal and router_maker in s.makers]
    personal = [s for s in styles if s.personal]
    pool = defaults if defaults and rng.random() < 0.6 else personal
    style = rng.choices(pool, weights=[s.weight for s in pool])[0]
    return style.names(SsidContext(rng, router_mac, first, surname))[0]
