"""Who makes the devices of a home: makers with their registered MAC prefixes, and the models they sell.

Every OUI below is a MA-L block that the IEEE registration authority assigned to that maker (source: the
IEEE MA-L registry, as shipped offline in ``netaddr``'s ``oui.txt``). Each was looked up with
``netaddr.EUI(prefix + ":00:00:01").oui.registration().org`` and ``tests/population/test_vendors.py``
checks every entry against the ``registrant`` pattern again, so a wrong prefix fails the build.

Some makers register under a subsidiary or sister company, and those names are accepted on purpose:
Lenovo's notebooks carry the prefixes of LCFC (Hefei), Lenovo's own notebook factory; Samsung phones often
carry Samsung Electro-Mechanics' Wi-Fi modules. Contract manufacturers that build for many brands (Hon Hai /
Foxconn, Liteon, AzureWave, Intel or Realtek NICs) are never used, because then the prefix would not say
who made the device.

``weights`` are rough 2021 popularities in Chinese homes and in homes elsewhere. They make a household look
plausible, not a market study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGIONS = ("cn", "intl")


def region_of(locale: str) -> str:
    """``"cn"`` for mainland-Chinese homes (own brands, ISP gateways, no Google services), else ``"intl"``."""
    return "cn" if locale == "zh_CN" else "intl"


@dataclass(frozen=True, slots=True)
class Maker:
    """A company as recorded in ``Device.vendor``, with the OUIs the IEEE assigned to it."""

    name: str  # as recorded in Device.vendor: "Apple"
    registrant: str  # regex (case-insensitive) the IEEE organisation name must match
    ouis: tuple[str, ...]  # "3c:22:fb", ...


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """A product a home may own, and how it shows itself on the LAN."""

    kind: str  # phone, laptop, ..., router
    maker: str  # key of MAKERS
    model: str  # "iPhone 12"
    os: str  # "ios", "android", "windows", "macos", "linux", "embedded", ...
    weights: tuple[float, float]  # popularity among its kind in ("cn", "intl") homes
    naming: str  # hostname style, a key of testbed.population.hostnames.STYLES
    label: str = ""  # the model as its OS spells it in names: "Galaxy-S21", "HUAWEI_P40", "MacBook-Pro"
    services: tuple[str, ...] = ()  # mDNS service types it advertises
    ssdp: str | None = None  # UPnP device type it announces
    netbios: float = 0.0  # share of units that answer NBNS
    wired: float | None = None  # share on Ethernet; None: the kind's usual share (testbed.population.links)


# The IEEE MA-L registry, via netaddr. Several prefixes per maker, so that a home's devices differ.
MAKERS: dict[str, Maker] = {
    # Phones, tablets, computers.
    "apple": Maker("Apple", r"^Apple, Inc\.$", (
        "3c:22:fb", "f0:18:98", "a4:83:e7", "ac:bc:32", "88:66:5a", "dc:a9:04", "f4:0f:24", "8c:85:90",
        "bc:d0:74", "14:7d:da")),
    "samsung": Maker("Samsung", r"^Samsung Electronics|^SAMSUNG ELECTRO-MECHANICS", (
        "8c:79:f5", "fc:a6:21", "50:f5:20", "64:b8:53", "e8:50:8b", "ac:5f:3e")),
    "xiaomi": Maker("Xiaomi", r"^Xiaomi Communications Co Ltd$", (
        "64:09:80", "9c:2e:a1", "ac:c1:ee", "28:e3:1f", "50:8f:4c", "34:80:b3", "8c:be:be")),
    # Xiaomi's IoT and router arm registers separately; Mijia plugs and routers carry these.
    "xiaomi-iot": Maker("Xiaomi", r"^XIAOMI Electronics,CO\.,LTD$", (
        "78:11:dc", "04:cf:8c", "28:6c:07", "50:64:2b", "34:ce:00", "40:31:3c")),
    "huawei": Maker("Huawei", r"^HUAWEI TECHNOLOGIES CO\.,LTD$", (
        "48:db:50", "e0:19:1d", "00:e0:fc", "28:6e:d4", "ac:e2:15", "f4:63:1f", "f4:bf:80")),
    "oppo": Maker("OPPO", r"^GUANGDONG OPPO MOBILE TELECOMMUNICATIONS", (
        "a4:3d:78", "e8:bb:a8", "2c:5b:b8", "1c:77:f6", "4c:1a:3d")),
    "vivo": Maker("vivo", r"^vivo Mobile Communication Co\., Ltd\.$", (
        "3c:a6:16", "e4:5a:a2", "28:31:66", "20:5d:47")),
    "google": Maker("Google", r"^Google, Inc\.$", (
        "f4:f5:d8", "3c:5a:b4", "54:60:09", "a4:77:33", "f8:0f:f9", "3c:28:6d", "20:df:b9")),
    "amazon": Maker("Amazon", r"^Amazon Technologies Inc\.$", ("fc:65:de", "44:65:0d", "68:54:fd", "74:c2:46")),
    "lenovo": Maker("Lenovo", r"^Lenovo$|^LCFC\(HeFei\) Electronics", (
        "98:fa:9b", "54:e1:ad", "8c:16:45", "e8:6a:64", "a4:8c:db")),
    "dell": Maker("Dell", r"^Dell Inc\.$", ("b0:7b:25", "54:bf:64", "a4:bb:6d", "18:db:f2", "98:90:96")),
    "hp": Maker("HP", r"^(HP Inc\.|Hewlett Packard)$", (
        "9c:7b:ef", "10:e7:c6", "3c:52:82", "a0:d3:c1", "f8:b4:6a", "64:4e:d7", "7c:4d:8f")),
    "asus": Maker("ASUS", r"^ASUSTek COMPUTER INC\.$", (
        "04:d4:c4", "2c:fd:a1", "f0:2f:74", "04:92:26", "24:4b:fe", "1c:87:2c")),
    "microsoft": Maker("Microsoft", r"^Microsoft( Corporation)?$", (
        "7c:ed:8d", "98:5f:d3", "c8:3f:26", "30:59:b7", "28:18:78")),
    "sony": Maker("Sony", r"^Sony Corporation$", ("ac:80:0a", "d4:38:9c", "30:17:c8")),  # TVs
    "sony-interactive": Maker("Sony", r"^Sony Interactive Entertainment", (
        "00:d9:d1", "bc:60:a7", "f8:46:1c", "2c:cc:44")),
    "nintendo": Maker("Nintendo", r"^Nintendo Co\.,? ?Ltd", ("98:b6:e9", "dc:68:eb", "04:03:d6", "7c:bb:8a")),
    # Printers.
    "canon": Maker("Canon", r"^CANON INC\.$", ("2c:9e:fc", "74:bf:c0", "84:ba:3b")),
    "epson": Maker("Epson", r"^Seiko Epson Corporation$", ("64:eb:8c", "38:1a:52", "ac:18:26", "50:57:9c")),
    "brother": Maker("Brother", r"^Brother Industries, LTD\.$", ("3c:2a:f4", "00:1b:a9", "30:05:5c", "94:dd:f8")),
    # Cameras, plugs, speakers.
    "hikvision": Maker("Hikvision", r"^Hangzhou Hikvision Digital Technology", (
        "c0:56:e3", "44:19:b6", "bc:ad:28", "24:48:45")),
    "dahua": Maker("Dahua", r"^Zhejiang Dahua Technology", ("3c:ef:8c", "e0:50:8b", "4c:11:bf")),
    "ezviz": Maker("EZVIZ", r"^Hangzhou Ezviz Software", ("64:f2:fb", "ec:97:e0", "58:8f:cf")),
    "espressif": Maker("Espressif", r"^Espressif Inc\.$", ("24:0a:c4", "84:f3:eb", "5c:cf:7f", "a4:cf:12")),
    "sonos": Maker("Sonos", r"^Sonos, Inc\.$", ("78:28:ca", "48:a6:b8", "94:9f:3e", "5c:aa:fd")),
    # TVs (Device.vendor of a TV comes from the scenario; these give it a matching prefix).
    "skyworth": Maker("Skyworth", r"Skyworth Digital", ("c0:8f:20", "30:91:76", "28:c0:1b", "e0:28:b1", "74:ff:4c")),
    "tcl": Maker("TCL", r"^TCL King Electrical Appliances", ("3c:59:1e", "5c:36:b8")),
    "hisense": Maker("Hisense", r"^Hisense Electric Co", ("a8:82:00", "18:30:0c")),
    "konka": Maker("Konka", r"^Konka Group", ("88:79:5b",)),
    "changhong": Maker("Changhong", r"Changhong", ("ac:ac:e2",)),
    # Routers and ISP gateways.
    "tp-link": Maker("TP-LINK", r"^TP-LINK TECHNOLOGIES|^TP-Link Corporation", (
        "50:c7:bf", "98:da:c4", "60:a4:b7", "30:fc:68", "14:cc:20", "d8:0d:17", "74:da:88")),
    "mercury": Maker("MERCURY", r"^(SHENZHEN )?MERCURY COMMUNICATION TECHNOLOGIES", ("e4:f3:f5", "1c:60:de")),
    "tenda": Maker("Tenda", r"^Tenda Technology", ("50:0f:f5", "c8:3a:35", "d8:32:14")),
    "zte": Maker("ZTE", r"^zte corporation$", ("f4:2e:48", "68:9e:29", "00:19:c6")),
    "fiberhome": Maker("Fiberhome", r"^Fiberhome Telecommunication", ("78:46:5f", "ac:cb:36")),
    "netgear": Maker("NETGEAR", r"^NETGEAR$", ("38:94:ed", "9c:3d:cf", "a0:40:a0", "c0:ff:d4")),
    "linksys": Maker("Linksys", r"^Cisco-Linksys, LLC$", ("00:14:bf", "c0:c1:c0", "58:6d:8f", "20:aa:4b")),
    "eero": Maker("eero", r"^eero inc\.$", ("08:f0:1e", "9c:57:bc")),
    "arris": Maker("Arris", r"^ARRIS Group, Inc\.$", ("00:1d:d5", "90:93:5a", "d4:6c:6d")),
    "sky": Maker("Sky", r"^SKY UK LIMITED$", ("0c:f9:c0", "3c:9e:c7")),
    # BT's Home Hubs and Telekom's Speedports are built by Arcadyan and carry its prefixes.
    "arcadyan": Maker("Arcadyan", r"^Arcadyan Corporation$", ("18:58:80", "8c:83:94")),
    "avm": Maker("AVM", r"^AVM Audiovisuelles Marketing", ("d0:12:cb", "98:9b:cb", "3c:37:12")),
}


def _m(kind: str, maker: str, model: str, os: str, cn: float, intl: float, naming: str, **kw: Any) -> DeviceModel:
    # Table rows stay on one or two lines: (kind, maker, model, os, weight in cn, weight elsewhere, naming).
    return DeviceModel(kind=kind, maker=maker, model=model, os=os, weights=(cn, intl), naming=naming, **kw)


_APPLE_PHONE = {"label": "iPhone", "services": ("_companion-link._tcp.local",)}
_APPLE_PAD = {"label": "iPad", "services": ("_companion-link._tcp.local",)}
# AirPlay receiving came to macOS only with Monterey (late 2021); kept so later scenarios look right.
_MAC_SERVICES = ("_companion-link._tcp.local", "_airplay._tcp.local")
_PRINTER_SERVICES = ("_ipp._tcp.local", "_printer._tcp.local")
_PRINTER_SSDP = "urn:schemas-upnp-org:device:Printer:1"
_CAMERA_SSDP = "urn:schemas-upnp-org:device:Basic:1"
_DIAL = "urn:dial-multiscreen-org:device:dial:1"
_RENDERER = "urn:schemas-upnp-org:device:MediaRenderer:1"
IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"

MODELS: dict[str, tuple[DeviceModel, ...]] = {
    "phone": (
        _m("phone", "apple", "iPhone 12", "ios", 0.10, 0.20, "ios", **_APPLE_PHONE),
        _m("phone", "apple", "iPhone 11", "ios", 0.08, 0.15, "ios", **_APPLE_PHONE),
        _m("phone", "apple", "iPhone XR", "ios", 0.04, 0.08, "ios", **_APPLE_PHONE),
        _m("phone", "samsung", "Galaxy S21", "android", 0.01, 0.12, "android", label="Galaxy-S21"),
        _m("phone", "samsung", "Galaxy A52", "android", 0.01, 0.12, "android", label="Galaxy-A52"),
        _m("phone", "xiaomi", "Redmi Note 10", "android", 0.10, 0.04, "android", label="Redmi-Note-10"),
        _m("phone", "xiaomi", "Mi 11", "android", 0.07, 0.02, "android", label="Mi-11"),
        _m("phone", "huawei", "P40", "android", 0.12, 0.02, "model-name", label="HUAWEI_P40"),
        _m("phone", "huawei", "Mate 40 Pro", "android", 0.10, 0.01, "model-name", label="HUAWEI_Mate_40_Pro"),
        _m("phone", "oppo", "Reno5", "android", 0.08, 0.01, "android", label="OPPO-Reno5"),
        _m("phone", "oppo", "A93", "android", 0.06, 0.01, "android", label="OPPO-A93"),
        _m("phone", "vivo", "X60", "android", 0.08, 0.00, "android", label="vivo-X60"),
        _m("phone", "vivo", "Y31s", "android", 0.06, 0.00, "android", label="vivo-Y31s"),
        _m("phone", "google", "Pixel 5", "android", 0.00, 0.07, "android", label="Pixel-5"),
        _m("phone", "google", "Pixel 4a", "android", 0.00, 0.05, "android", label="Pixel-4a"),
    ),
    "tablet": (
        _m("tablet", "apple", "iPad Air", "ios", 0.25, 0.25, "ios", **_APPLE_PAD),
        _m("tablet", "apple", "iPad (8th generation)", "ios", 0.25, 0.30, "ios", **_APPLE_PAD),
        _m("tablet", "huawei", "MatePad Pro", "android", 0.25, 0.02, "model-name", label="HUAWEI_MatePad_Pro"),
        _m("tablet", "samsung", "Galaxy Tab S7", "android", 0.03, 0.15, "android", label="Galaxy-Tab-S7"),
        _m("tablet", "lenovo", "Tab M10", "android", 0.12, 0.08, "android", label="Lenovo-TB-X606F"),
        _m("tablet", "xiaomi", "Mi Pad 4", "android", 0.10, 0.00, "android", label="MiPad4"),
        _m("tablet", "amazon", "Fire HD 10", "fireos", 0.00, 0.20, "android", label="Fire-HD-10"),
    ),
    "laptop": (
        _m("laptop", "apple", "MacBook Pro 13-inch", "macos", 0.12, 0.18, "macos", label="MacBook-Pro",
           services=_MAC_SERVICES),
        _m("laptop", "apple", "MacBook Air (M1)", "macos", 0.10, 0.14, "macos", label="MacBook-Air",
           services=_MAC_SERVICES),
        _m("laptop", "lenovo", "Xiaoxin Pro 13", "windows", 0.18, 0.00, "windows-laptop", netbios=1.0),
        _m("laptop", "lenovo", "ThinkPad X1 Carbon", "windows", 0.08, 0.10, "windows-laptop", netbios=1.0),
        _m("laptop", "dell", "XPS 13", "windows", 0.05, 0.12, "windows-laptop", netbios=1.0),
        _m("laptop", "dell", "Inspiron 15", "windows", 0.06, 0.10, "windows-laptop", netbios=1.0),
        _m("laptop", "hp", "Pavilion 15", "windows", 0.08, 0.12, "windows-laptop", netbios=1.0),
        _m("laptop", "asus", "VivoBook 15", "windows", 0.08, 0.08, "windows-laptop", netbios=1.0),
        _m("laptop", "huawei", "MateBook 14", "windows", 0.15, 0.00, "windows-laptop", netbios=1.0),
        _m("laptop", "microsoft", "Surface Laptop 3", "windows", 0.00, 0.06, "windows-laptop", netbios=1.0),
    ),
    "desktop": (
        _m("desktop", "dell", "OptiPlex 7080", "windows", 0.20, 0.20, "windows-desktop", netbios=1.0),
        _m("desktop", "dell", "Inspiron 3880", "windows", 0.15, 0.20, "windows-desktop", netbios=1.0),
        _m("desktop", "hp", "Pavilion Desktop TP01", "windows", 0.15, 0.20, "windows-desktop", netbios=1.0),
        _m("desktop", "lenovo", "ThinkCentre M720q", "windows", 0.30, 0.10, "windows-desktop", netbios=1.0),
        _m("desktop", "asus", "ROG Strix GA15", "windows", 0.12, 0.10, "windows-desktop", netbios=1.0),
        _m("desktop", "apple", "iMac 27-inch (2020)", "macos", 0.08, 0.20, "macos", label="iMac",
           services=_MAC_SERVICES),
    ),
    "printer": (
        _m("printer", "hp", "LaserJet Pro M404dn", "embedded", 0.15, 0.20, "hp", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP, netbios=0.5),
        _m("printer", "hp", "OfficeJet Pro 9015", "embedded", 0.10, 0.20, "hp", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP, netbios=0.5),
        _m("printer", "canon", "PIXMA G3810", "embedded", 0.20, 0.05, "canon", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP),
        _m("printer", "canon", "PIXMA TS3320", "embedded", 0.05, 0.15, "canon", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP),
        _m("printer", "epson", "L3158", "embedded", 0.25, 0.00, "epson", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP),
        _m("printer", "epson", "EcoTank ET-2720", "embedded", 0.00, 0.20, "epson", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP),
        _m("printer", "brother", "DCP-T720DW", "embedded", 0.15, 0.00, "brother", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP, netbios=0.5),
        _m("printer", "brother", "HL-L2350DW", "embedded", 0.10, 0.20, "brother", services=_PRINTER_SERVICES,
           ssdp=_PRINTER_SSDP, netbios=0.5),
    ),
    "console": (
        _m("console", "sony-interactive", "PlayStation 5", "playstation", 0.25, 0.30, "playstation", label="PS5",
           ssdp=_DIAL),
        _m("console", "sony-interactive", "PlayStation 4", "playstation", 0.25, 0.20, "playstation", label="PS4",
           ssdp=_DIAL),
        _m("console", "microsoft", "Xbox Series X", "xbox", 0.10, 0.15, "label", label="XboxSeriesX",
           ssdp=_RENDERER),
        _m("console", "microsoft", "Xbox One", "xbox", 0.10, 0.15, "label", label="XboxOne", ssdp=_RENDERER),
        _m("console", "nintendo", "Switch", "embedded", 0.30, 0.20, "label", label="Nintendo-Switch"),
    ),
    "speaker": (
        _m("speaker", "xiaomi-iot", "XiaoAI Speaker Pro", "linux", 0.60, 0.00, "miio",
           label="xiaomi-wifispeaker-lx06", ssdp=_RENDERER),
        _m("speaker", "google", "Nest Mini", "cast", 0.00, 0.30, "label", label="Google-Nest-Mini",
           services=("_googlecast._tcp.local",), ssdp=_DIAL),
        _m("speaker", "amazon", "Echo Dot (4th Gen)", "fireos", 0.00, 0.35, "echo"),
        _m("speaker", "sonos", "Sonos One", "sonos", 0.05, 0.20, "sonos", wired=0.1,
           services=("_sonos._tcp.local", "_spotify-connect._tcp.local"),
           ssdp="urn:schemas-upnp-org:device:ZonePlayer:1"),
        _m("speaker", "apple", "HomePod mini", "audioos", 0.05, 0.10, "room",
           services=("_airplay._tcp.local", "_raop._tcp.local", "_companion-link._tcp.local")),
        _m("speaker", "huawei", "Sound X", "linux", 0.30, 0.00, "model-name", label="HUAWEI_Sound_X"),
    ),
    "camera": (
        _m("camera", "xiaomi-iot", "Mi 360 Home Security Camera", "linux", 0.30, 0.00, "miio",
           label="chuangmi-camera-ipc019"),
        _m("camera", "ezviz", "C6CN", "embedded", 0.25, 0.10, "ezviz", ssdp=_CAMERA_SSDP),
        _m("camera", "hikvision", "DS-2CD2143G0-I", "embedded", 0.15, 0.15, "ipc", ssdp=_CAMERA_SSDP, wired=0.9),
        _m("camera", "dahua", "IPC-HFW1230S", "embedded", 0.10, 0.10, "ipc", ssdp=_CAMERA_SSDP, wired=0.8),
        _m("camera", "tp-link", "Tapo C200", "embedded", 0.20, 0.40, "label", label="C200"),
        _m("camera", "google", "Nest Cam Indoor", "embedded", 0.00, 0.25, "label", label="Nest-Cam"),
    ),
    "plug": (
        _m("plug", "espressif", "Sonoff S26", "embedded", 0.30, 0.30, "esp"),
        _m("plug", "espressif", "Shelly Plug S", "embedded", 0.05, 0.15, "shelly"),
        _m("plug", "xiaomi-iot", "Mi Smart Plug", "embedded", 0.50, 0.00, "miio", label="chuangmi-plug-m1"),
        _m("plug", "tp-link", "Kasa HS103", "embedded", 0.05, 0.35, "label", label="HS103"),
        _m("plug", "tp-link", "Tapo P100", "embedded", 0.10, 0.20, "label", label="P100"),
    ),
}

# The home's router or ISP gateway; brands as in the brief: the Chinese market and the rest.
ROUTER_MODELS: tuple[DeviceModel, ...] = (
    _m("router", "tp-link", "TL-WDR5620", "linux", 0.18, 0.00, "label", label="TL-WDR5620", ssdp=IGD),
    _m("router", "tp-link", "TL-XDR3010", "linux", 0.10, 0.00, "label", label="TL-XDR3010", ssdp=IGD),
    _m("router", "tp-link", "Archer C7", "linux", 0.00, 0.12, "label", label="Archer_C7", ssdp=IGD),
    _m("router", "tp-link", "Archer AX20", "linux", 0.00, 0.10, "label", label="Archer_AX20", ssdp=IGD),
    _m("router", "xiaomi-iot", "Redmi Router AC2100", "linux", 0.08, 0.00, "label", label="XiaoQiang", ssdp=IGD),
    _m("router", "xiaomi-iot", "Mi Router 4A", "linux", 0.07, 0.00, "label", label="XiaoQiang", ssdp=IGD),
    _m("router", "huawei", "WS5200", "linux", 0.08, 0.00, "label", label="HUAWEI-WS5200", ssdp=IGD),
    _m("router", "huawei", "AX3 Pro", "linux", 0.07, 0.00, "label", label="HUAWEI-AX3-Pro", ssdp=IGD),
    _m("router", "mercury", "MW325R", "linux", 0.12, 0.00, "label", label="MW325R", ssdp=IGD),
    _m("router", "tenda", "AC6", "linux", 0.08, 0.00, "label", label="Tenda-AC6", ssdp=IGD),
    # Fibre ONTs that China Telecom / China Mobile install: the most common "router" in Chinese flats.
    _m("router", "zte", "ZXHN F650", "linux", 0.12, 0.00, "label", label="ZXHN-F650", ssdp=IGD),
    _m("router", "zte", "ZXHN F7607P", "linux", 0.10, 0.00, "label", label="ZXHN-F7607P", ssdp=IGD),
    _m("router", "netgear", "Nighthawk R7000", "linux", 0.00, 0.12, "label", label="R7000", ssdp=IGD),
    _m("router", "netgear", "Orbi RBR50", "linux", 0.00, 0.06, "label", label="RBR50", ssdp=IGD),
    _m("router", "asus", "RT-AC68U", "linux", 0.00, 0.08, "asus-router", label="RT-AC68U", ssdp=IGD),
    _m("router", "asus", "RT-AX58U", "linux", 0.00, 0.05, "asus-router", label="RT-AX58U", ssdp=IGD),
    _m("router", "linksys", "EA7500", "linux", 0.00, 0.10, "linksys", ssdp=IGD),
    _m("router", "eero", "eero Pro 6", "linux", 0.00, 0.10, "label", label="eero", ssdp=IGD),
    # Comcast's and Spectrum's cable gateways.
    _m("router", "arris", "TG1682G", "linux", 0.00, 0.15, "label", label="TG1682G", ssdp=IGD),
    _m("router", "arris", "SURFboard SBG7600AC2", "linux", 0.00, 0.12, "label", label="SBG7600AC2", ssdp=IGD),
)

# Share of phones and tablets that join a network with a per-network random, locally administered MAC
# (iOS 14 and Android 10 turned it on by default; in 2021 many devices were older). A detector that
# trusts OUIs misses these; the vendor is still recorded as truth. One place to change it.
RANDOMISED_MAC_SHARE: dict[str, float] = {"ios": 0.4, "android": 0.4}


def maker_named(vendor: str) -> str | None:
    """The MAKERS key of a vendor name as a scenario writes it (``"Skyworth"``, ``"tcl"``), or None."""
    wanted = vendor.strip().casefold()
    for key, maker in MAKERS.items():
        if maker.name.casefold() == wanted:
            return key
    return None
