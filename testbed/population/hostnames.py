"""Hostnames in the style each OS or firmware really uses, as seen in DHCP, mDNS and NetBIOS.

Names are ASCII and valid DNS labels (letters, digits, hyphens; no leading or trailing hyphen; at most 63
characters), except that ``_`` is kept where the real firmware uses it (``ESP_3A2F1B``, ``HUAWEI_P40``,
Xiaomi's ``..._miap1A2B``): those are exactly the strings that appear in DHCP option 12 and so in what
the SDK uploads, and a detector should see them as they are.

A style is one small function of a ``NameContext``; ``STYLES`` maps the style names that
``vendors.DeviceModel.naming`` uses to them.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_ALNUM_UPPER = string.ascii_uppercase + string.digits
_INVALID = re.compile(r"[^A-Za-z0-9_-]+")
_VALID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")


def ascii_name(text: str) -> str:
    """``text`` folded to ASCII letters and digits (``"José"`` -> ``"Jose"``); empty if nothing survives."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


def dns_label(text: str, underscore: bool = False) -> str:
    """``text`` as a hostname label: runs of other characters become one hyphen, ends trimmed, 63 max."""
    if _VALID.fullmatch(text) and "--" not in text and (underscore or "_" not in text):
        return text  # already a label: the common case
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    label = _INVALID.sub("-", folded)
    if not underscore:
        label = label.replace("_", "-")
    label = re.sub(r"-{2,}", "-", label)[:63]
    return label.strip("-_")


@dataclass(slots=True)  # not frozen: one is made per name, and frozen init is slower
class NameContext:
    """What a hostname style may use."""

    rng: random.Random
    label: str  # the model as the OS spells it ("iPhone", "Galaxy-S21", "HUAWEI_P40")
    mac: str
    person: str | None  # the owner's first name in ASCII, if the device is someone's
    link: str  # "wifi" or "wired" (Brother names differ)
    region: str  # "cn" or "intl"

    def mac_hex(self, digits: int) -> str:
        """The last ``digits`` hex digits of the MAC, upper case, as printers and ESP firmware print them."""
        return self.mac.replace(":", "").upper()[-digits:]


def _possessive(person: str) -> str:
    # iOS builds "John's iPhone" and its hostname drops the apostrophe: "Johns-iPhone".
    return f"{person}s"


def _apple(ctx: NameContext) -> str:
    if not ctx.person:
        return ctx.label
    roll = ctx.rng.random()
    if ctx.region == "cn":
        # Chinese-named devices ("张伟的iPhone") lose every non-ASCII character: just "iPhone".
        if roll < 0.4:
            return ctx.label
        return f"{ctx.person}-{ctx.label}" if roll < 0.7 else f"{_possessive(ctx.person)}-{ctx.label}"
    return ctx.label if roll < 0.15 else f"{_possessive(ctx.person)}-{ctx.label}"


def _room(ctx: NameContext) -> str:
    return ctx.rng.choice(("Living-Room", "Kitchen", "Bedroom", "Study", "HomePod"))


def _windows(prefix: str, length: int) -> Callable[[NameContext], str]:
    def name(ctx: NameContext) -> str:
        if ctx.person and ctx.rng.random() < 0.1:
            return f"{ctx.person.upper()}-PC"  # renamed, Windows 7 style
        return prefix + "".join(ctx.rng.choices(_ALNUM_UPPER, k=length))

    return name


def _android(ctx: NameContext) -> str:
    # Older Android sends "android-" + its 64-bit Android ID; newer ones send the device name.
    if ctx.rng.random() < 0.5:
        return f"android-{ctx.rng.getrandbits(64):016x}"
    return ctx.label


def _brother(ctx: NameContext) -> str:
    # BRN = wired, BRW = wireless, then the whole MAC.
    return ("BRN" if ctx.link == "wired" else "BRW") + ctx.mac_hex(12)


def _ezviz(ctx: NameContext) -> str:
    return f"EZVIZ-{ctx.rng.choice(string.ascii_uppercase)}{ctx.rng.randrange(10**8):08d}"


def _esp(ctx: NameContext) -> str:
    # Stock ESP8266 firmware, or flashed with Tasmota ("tasmota-" + MAC tail + 13 bits of it in decimal).
    if ctx.rng.random() < 0.3:
        return f"tasmota-{ctx.mac_hex(6)}-{int(ctx.mac_hex(4), 16) & 0x1FFF:04d}"
    return f"ESP_{ctx.mac_hex(6)}"


def _tv(ctx: NameContext) -> str:
    if ctx.rng.random() < 0.7:
        return ctx.label  # "Skyworth-55Q71"
    return f"{ctx.label.split('-')[0].upper()}_TV"  # "SKYWORTH_TV"


STYLES: dict[str, Callable[[NameContext], str]] = {
    "ios": _apple,
    "macos": _apple,
    "room": _room,
    "windows-desktop": _windows("DESKTOP-", 7),
    "windows-laptop": _windows("LAPTOP-", 8),
    "android": _android,
    "model-name": lambda ctx: ctx.label,
    "label": lambda ctx: ctx.label,
    "hp": lambda ctx: f"HP{ctx.mac_hex(6)}",
    "epson": lambda ctx: f"EPSON{ctx.mac_hex(6)}",
    "canon": lambda ctx: f"Canon{ctx.mac_hex(6)}",
    "brother": _brother,
    "ipc": lambda ctx: f"IPC-{ctx.mac_hex(6)}",
    "ezviz": _ezviz,
    "miio": lambda ctx: f"{ctx.label}_miap{ctx.mac_hex(4)}",
    "esp": _esp,
    "shelly": lambda ctx: f"shellyplug-s-{ctx.mac_hex(6)}",
    "playstation": lambda ctx: f"{ctx.label}-{ctx.rng.randrange(1000):03d}",
    "echo": lambda ctx: f"amazon-{ctx.rng.getrandbits(36):09x}",
    "sonos": lambda ctx: f"Sonos-{ctx.mac_hex(12)}",
    "asus-router": lambda ctx: f"{ctx.label}-{ctx.mac_hex(4)}",
    "linksys": lambda ctx: f"Linksys{ctx.rng.randrange(10**5):05d}",
    "tv": _tv,
}


def hostname(style: str, ctx: NameContext) -> str:
    """The hostname a device of naming ``style`` gives itself (underscores kept where the firmware uses them)."""
    return dns_label(STYLES[style](ctx), underscore=True)


def deduplicate(names: list[str]) -> list[str]:
    """Make names unique within a home the way mDNS conflict resolution does: ``iPhone``, ``iPhone-2``..."""
    used: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{name}-{n}"
        used.add(candidate.casefold())
        out.append(candidate)
    return out
