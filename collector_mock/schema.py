"""The report the Gozen SDK uploads (``schema: gozen/1``), as pydantic v2 models.

One report is what one TV sent after one collection cycle: the TV itself, the devices its LAN sweep found
(``hosts``) and the Wi-Fi networks it heard (``wifi``).

``tv.home`` identifies the household. A real collector has no such field: it derives a household key from
what the TV cannot help revealing, typically the gateway's MAC and the home's public IP. The testbed sends
the household id directly as a stand-in for that key, so collected data can be joined to ground truth.

Identifiers (``mac``, ``bssid``) are any string of 1 to 128 characters rather than MAC syntax, because an
evasion level of the SDK sends the sha256 hex of each identifier instead of the raw MAC. SSIDs are arbitrary
Unicode (up to 64 characters) and are kept verbatim, markup included: whoever renders them must escape.

Models are strict (no silent coercion of ``"12"`` into 12) and forbid unknown keys, except inside ``sdk``
where SDK builds add their own fields.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

__all__ = [
    "CONSENT_STATES",
    "MAX_INT64",
    "SCHEMA",
    "Host",
    "Report",
    "Sdk",
    "Tv",
    "Wifi",
    "error_paths",
    "parse_report",
]

SCHEMA = "gozen/1"
Consent = Literal["not_asked", "opted_in", "opted_out", "optout_ignored"]
CONSENT_STATES: tuple[str, ...] = get_args(Consent)
MAX_HOSTS = 65_536  # a full /16 sweep; the body size limit binds long before this
MAX_WIFI = 4_096
MAX_INT64 = 2**63 - 1  # SQLite's INTEGER: a larger cycle would fail at storage, so refuse it here


_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", re.ASCII
)


def _ip(value: str) -> str:
    # The regex accepts exactly what ipaddress accepts for IPv4, about 20 times faster; a report
    # carries dozens of addresses and the simulator ingests thousands of reports.
    if not _IPV4.fullmatch(value):
        if "%" in value:  # ipaddress takes IPv6 scope ids ("fe80::1%eth0"); the OpenAPI format does not
            raise ValueError("an IP address must not carry a scope id")
        ipaddress.ip_address(value)  # raises ValueError, which pydantic reports with the field path
    return value  # stored as sent


# The JSON schema says what the validator checks, so the published OpenAPI document (and the fuzzer
# that generates requests from it) agrees with what is accepted.
def _whole_number(value: object) -> object:
    # JSON has one number type: 19.0 is the integer 19 to JSON Schema (and to the OpenAPI document and
    # its fuzzer), so it is accepted as one. 19.5 and "19" are still refused by the strict model.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_int(low: int, high: int) -> Any:
    """An integer in [low, high]; the bounds stay ``minimum``/``maximum`` in the JSON schema."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_whole_number)]


IpAddress = Annotated[
    str,
    AfterValidator(_ip),
    WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Sdk(BaseModel):
    """The SDK that sent the report; unknown keys are tolerated (builds add their own)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: Name
    version: Name


class Tv(_Strict):
    """The TV that sent the report; ``home`` stands in for the collector's household key."""

    id: Name
    home: Name
    vendor: Annotated[str, Field(max_length=64)]
    model: Annotated[str, Field(max_length=64)]
    mac: Identifier
    ip: IpAddress


class Host(_Strict):
    """A device found by the LAN sweep; name lookup and ping may fail, hence the nulls."""

    ip: IpAddress
    mac: Identifier
    hostname: Annotated[str, Field(max_length=255)] | None
    rtt_ms: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None


class Wifi(_Strict):
    """A Wi-Fi network heard by the TV (its own or a neighbour's)."""

    ssid: Annotated[str, Field(max_length=64)]  # may be empty: hidden networks
    bssid: Identifier
    rssi: _json_int(-128, 0)  # type: ignore[valid-type]  # dBm
    channel: _json_int(1, 233)  # type: ignore[valid-type]  # 2.4, 5 and 6 GHz channel numbers


class Report(_Strict):
    """One upload: ``{"schema": "gozen/1", "sdk", "tv", "cycle", "collected_at", "consent", "hosts", "wifi"}``."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["gozen/1"] = Field(alias="schema")  # "schema" would shadow a BaseModel attribute
    sdk: Sdk
    tv: Tv
    cycle: _json_int(0, MAX_INT64)  # type: ignore[valid-type]
    collected_at: Annotated[float, Field(ge=0, allow_inf_nan=False)]  # epoch seconds, the SDK's clock
    consent: Consent
    hosts: Annotated[list[Host], Field(max_length=MAX_HOSTS)]
    wifi: Annotated[list[Wifi], Field(max_length=MAX_WIFI)]


def parse_report(data: bytes) -> Report:
    """Parse and validate a decoded body; raises ``pydantic.ValidationError``."""
    return Report.model_validate_json(data)


def error_paths(exc: ValidationError, limit: int = 20) -> list[dict[str, str]]:
    """``[{"loc": "hosts.3.mac", "msg": "field required"}, ...]`` for the first ``limit`` errors."""
    out = []
    for err in exc.errors(include_url=False, include_input=False)[:limit]:
        loc = ".".join(str(part) for part in err["loc"]) or "report"
        msg = err["msg"]
        out.append({"loc": loc, "msg": msg[:1].lower() + msg[1:]})
    return out
