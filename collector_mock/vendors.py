"""Which vendor a MAC address names, from the IEEE OUI registry that ships with ``netaddr`` (offline).

Identifiers in reports are not always MACs: an evasive SDK sends sha256 hex digests instead, and phones
and laptops use randomised ("locally administered") MACs, whose first three bytes name nobody.
"""

from __future__ import annotations

import re
from functools import lru_cache

import netaddr

__all__ = ["describe_mac"]

# Only the usual spellings of a 48-bit MAC: netaddr itself would also read "1" as 00-00-00-00-00-01.
_MAC = re.compile(
    r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{12}",
    re.ASCII | re.IGNORECASE,
)
_LOCALLY_ADMINISTERED = 0x02
_MULTICAST = 0x01


@lru_cache(maxsize=65_536)
def describe_mac(identifier: str) -> dict[str, str | None]:
    """``{"vendor": ..., "mac_kind": ...}`` for an identifier from a report.

    ``mac_kind`` is ``"universal"`` (vendor from the registry, or None if the OUI is unregistered),
    ``"randomized"`` (locally administered: no vendor), ``"multicast"`` or ``"not_a_mac"`` (e.g. a hash).
    """
    if not _MAC.fullmatch(identifier):
        return {"vendor": None, "mac_kind": "not_a_mac"}
    eui = netaddr.EUI(identifier)
    first = eui.words[0]
    if first & _MULTICAST:
        return {"vendor": None, "mac_kind": "multicast"}
    if first & _LOCALLY_ADMINISTERED:
        return {"vendor": None, "mac_kind": "randomized"}
    try:
        vendor = eui.oui.registration().org
    except netaddr.NotRegisteredError:
        vendor = None
    return {"vendor": vendor, "mac_kind": "universal"}
