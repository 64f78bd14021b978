"""Names that benign devices look up and talk to.

They are illustrative of what each platform contacts (connectivity checks, push, time, video); in the
simulation every one resolves to a TEST-NET-2 address (198.51.100.0/24), so no real host appears in a
capture. The collector of the SDK lives in TEST-NET-3 (203.0.113.0/24) instead.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

BY_OS: dict[str, tuple[str, ...]] = {
    "ios": ("gateway.icloud.com", "mesu.apple.com", "api.apple-cloudkit.com", "weixin.qq.com", "www.baidu.com"),
    "macos": ("gateway.icloud.com", "swscan.apple.com", "www.apple.com", "github.com", "www.bilibili.com"),
    "android": ("connectivitycheck.gstatic.com", "mtalk.google.com", "weixin.qq.com", "api.weibo.cn", "www.taobao.com"),
    "windows": ("www.msftconnecttest.com", "settings-win.data.microsoft.com", "login.live.com", "www.bing.com"),
    "linux": ("deb.debian.org", "connectivity-check.ubuntu.com", "pool.ntp.org"),
    "embedded": ("iot.espressif.cn", "time.windows.com", "devs.tplinkcloud.com"),
    "tv": ("cache.video.iqiyi.com", "v.qq.com", "www.youku.com", "connectivitycheck.gstatic.com"),
}
NTP_BY_OS: dict[str, str] = {
    "ios": "time.apple.com",
    "macos": "time.apple.com",
    "windows": "time.windows.com",
    "android": "time.android.com",
}
DEFAULT_NTP = "cn.pool.ntp.org"
STREAMING = ("cache.video.iqiyi.com", "vd.l.qq.com", "upos-sz-mirror.bilivideo.com")
FIRST_PARTY_TELEMETRY = "log.tv.skyworthdigital.com"  # the TV maker's own (consented) telemetry


@lru_cache(maxsize=4096)  # a run looks up the same few hundred names all day
def address_of(name: str) -> str:
    """The simulated address of an internet name: stable, and always inside TEST-NET-2."""
    octet = 2 + hashlib.sha256(name.encode()).digest()[0] % 250
    return f"198.51.100.{octet}"
