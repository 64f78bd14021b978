"""Hostnames look like what each OS or firmware really sends in DHCP and mDNS."""

from __future__ import annotations

import re

from testbed.population.hostnames import ascii_name, deduplicate, dns_label
from testbed.population.people import _GIVEN_HANZI

LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
DUP = r"(?:-\d+)?"  # mDNS-style suffix when two devices of a home share a name
# Where real firmware puts an underscore, and only there.
UNDERSCORE_OK = re.compile(r"^(ESP_|HUAWEI_|Archer_|SKYWORTH_TV|[A-Z]+_TV)|_miap[0-9A-F]{4}")

PER_OS = {
    "windows": re.compile(rf"(DESKTOP-[A-Z0-9]{{7}}|LAPTOP-[A-Z0-9]{{8}}|[A-Z]+-PC){DUP}"),
    "macos": re.compile(rf"([A-Za-z]+-)?(MacBook-Pro|MacBook-Air|iMac){DUP}"),
}


def _devices(population):
    for h in population.households:
        yield h, h.router
        for d in h.devices:
            yield h, d


def test_hostnames_are_ascii_dns_labels(mixed_population):
    for _, d in _devices(mixed_population):
        assert d.hostname.isascii() and LABEL.fullmatch(d.hostname), d
        if "_" in d.hostname:
            assert UNDERSCORE_OK.search(d.hostname), d.hostname


def test_hostnames_are_unique_within_a_household(mixed_population):
    for h in mixed_population.households:
        names = [d.hostname.casefold() for d in (h.router, *h.devices)]
        assert len(set(names)) == len(names)


def test_hostname_style_per_os_and_kind(mixed_population):
    seen: set[str] = set()
    for _, d in _devices(mixed_population):
        name, mac = d.hostname, d.mac.replace(":", "").upper()
        if d.os in PER_OS:
            assert PER_OS[d.os].fullmatch(name), (d.os, name)
        if d.kind == "phone" and d.os == "ios":
            assert re.fullmatch(rf"([A-Za-z]+-)?iPhone{DUP}", name), name
        elif d.kind == "tablet" and d.os == "ios":
            assert re.fullmatch(rf"([A-Za-z]+-)?iPad{DUP}", name), name
        elif d.os in ("android", "fireos") and d.kind in ("phone", "tablet"):
            assert re.fullmatch(rf"(android-[0-9a-f]{{16}}|[A-Za-z0-9_-]+){DUP}", name), name
            if d.vendor == "Huawei":
                assert name.startswith("HUAWEI_"), name
        elif d.kind == "printer":
            expected = {"HP": f"HP{mac[-6:]}", "Epson": f"EPSON{mac[-6:]}", "Canon": f"Canon{mac[-6:]}",
                        "Brother": f"{'BRN' if d.link == 'wired' else 'BRW'}{mac}"}[d.vendor]
            assert name == expected, (d.vendor, name)
        elif d.kind == "plug" and d.vendor == "Espressif":
            assert re.fullmatch(rf"ESP_{mac[-6:]}|tasmota-{mac[-6:]}-\d{{4}}|shellyplug-s-{mac[-6:]}", name), name
        elif d.kind == "console" and d.vendor == "Sony":
            assert re.fullmatch(r"PS[45]-\d{3}", name), name
        elif d.kind == "speaker" and d.vendor == "Sonos":
            assert name == f"Sonos-{mac}"
        elif d.kind == "camera" and d.vendor in ("Hikvision", "Dahua"):
            assert name == f"IPC-{mac[-6:]}"
        elif d.kind == "tv":
            assert re.fullmatch(rf"Skyworth-[0-9A-Z]+|SKYWORTH_TV{DUP}", name), name
        seen.add(f"{d.kind}/{d.os}")
    assert {"phone/ios", "phone/android", "laptop/windows", "laptop/macos", "printer/embedded", "tv/android"} <= seen


def test_chinese_owners_phones_carry_the_pinyin_of_their_given_name(mixed_population):
    checked = 0
    for h in mixed_population.households:
        if h.locale != "zh_CN":
            continue
        owner_phone = next((d for d in h.devices if d.kind == "phone"), None)
        if owner_phone is None or owner_phone.os != "ios" or "-" not in owner_phone.hostname:
            continue
        pinyin = owner_phone.hostname.split("-")[0].removesuffix("s")
        if pinyin in _GIVEN_HANZI:
            assert h.owner.endswith(_GIVEN_HANZI[pinyin]), (h.owner, owner_phone.hostname)
            checked += 1
    assert checked >= 3


def test_owner_names_are_in_the_household_locale(mixed_population):
    for h in mixed_population.households:
        if h.locale == "zh_CN":
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", h.owner), h.owner
        elif h.locale in ("en_US", "en_GB"):
            assert " " in h.owner and h.owner.isascii()


def test_dns_label_and_ascii_name():
    assert dns_label("John's iPhone") == "John-s-iPhone"
    assert dns_label("--a__b  c--", underscore=True) == "a__b-c"
    assert dns_label("x" * 80) == "x" * 63
    assert ascii_name("José") == "Jose" and ascii_name("张伟") == ""


def test_deduplicate_like_mdns():
    assert deduplicate(["iPhone", "iphone", "iPhone-2", "iPhone"]) == ["iPhone", "iphone-2", "iPhone-2-2", "iPhone-3"]
