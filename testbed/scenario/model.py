"""The scenario schema: what a ``scenarios/*.yaml`` file may say, with defaults and limits.

A scenario is data. Validating it touches no backend; ``testbed.population`` expands it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

DEVICE_KINDS = ("phone", "laptop", "desktop", "tablet", "printer", "console", "speaker", "camera", "plug")
CONSENT_STATES = ("not_asked", "opted_in", "opted_out", "optout_ignored")
ENCODINGS = ("json", "gzip", "base64", "aes")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """Seconds from ``600``, ``"600s"``, ``"10m"``, ``"24h"``, ``"1.5d"``; raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 600s, 10m or 24h, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration such as 600s, 10m or 24h, got {value!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


Seconds = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Collector(_Strict):
    """Where the SDK uploads: the data company's domain, its (TEST-NET-3) address and endpoint."""

    domain: str = "gz-data.com"
    ip: str = "203.0.113.7"
    port: int = Field(80, ge=1, le=65535)
    path: str = "/api/v1/report"

    @field_validator("ip")
    @classmethod
    def _documentation_address(cls, v: str) -> str:
        # Containment: the simulated "internet" must never be a real address.
        addr = ipaddress.ip_address(v)
        if addr not in ipaddress.ip_network("203.0.113.0/24"):
            raise ValueError(f"must be in TEST-NET-3 (203.0.113.0/24) so nothing real is addressed, got {v}")
        return v


class Sdk(_Strict):
    """The telemetry SDK pre-installed on the TVs, and how it behaves."""

    profile: Literal["gozen"] = "gozen"
    consent: str | dict[str, float] = "not_asked"
    interval: Seconds = Field(600.0, gt=0)
    jitter: Seconds = Field(30.0, ge=0)
    first_delay: Seconds = Field(120.0, ge=0)
    encoding: str = "json"
    transport: Literal["http", "tls"] = "http"
    aes_key: str = "gozen-demo-key-1"  # 16 ASCII bytes: AES-128, a key the collector knows
    collector: Collector = Collector()
    retries: int = Field(3, ge=0, le=10)
    hash_ids: bool = False  # send sha256 of MACs, hostnames, SSIDs and BSSIDs instead of the values
    batch: int = Field(1, ge=1, le=48)  # upload once every `batch` cycles, carrying all of them

    @field_validator("consent")
    @classmethod
    def _consent(cls, v: str | dict[str, float]) -> str | dict[str, float]:
        states = [v] if isinstance(v, str) else list(v)
        for state in states:
            if state not in CONSENT_STATES:
                raise ValueError(f"consent must be one of {', '.join(CONSENT_STATES)}, got {state!r}")
        if isinstance(v, dict) and (any(w < 0 for w in v.values()) or sum(v.values()) <= 0):
            raise ValueError("consent weights must be >= 0 with a positive sum")
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        for layer in v.split("+"):
            if layer not in ENCODINGS:
                raise ValueError(f"encoding layers must be among {', '.join(ENCODINGS)} joined by '+', got {v!r}")
        return v

    @field_validator("aes_key")
    @classmethod
    def _key(cls, v: str) -> str:
        if len(v.encode()) not in (16, 24, 32):
            raise ValueError(f"must be 16, 24 or 32 bytes long (AES-128/192/256), got {len(v.encode())}")
        return v


class Tvs(_Strict):
    """The smart TVs in each household."""

    per_household: int = Field(1, ge=0, le=4)
    vendor: str = "Skyworth"
    models: list[str] = ["55Q71", "65Q72", "50SUC9300", "43E3"]
    sdk: Sdk | None = Sdk()


class Households(_Strict):
    """How many homes, and what is in them."""

    count: int = Field(25, ge=1, le=100_000)
    locales: dict[str, float] = {"zh_CN": 1.0}
    devices: dict[str, tuple[int, int]] = {
        "phone": (1, 4),
        "laptop": (0, 2),
        "desktop": (0, 1),
        "tablet": (0, 2),
        "printer": (0, 1),
        "console": (0, 1),
        "speaker": (0, 2),
        "camera": (0, 2),
        "plug": (0, 3),
    }
    neighbour_wifi: tuple[int, int] = (4, 14)

    @field_validator("devices")
    @classmethod
    def _devices(cls, v: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for kind, (low, high) in v.items():
            if kind not in DEVICE_KINDS:
                raise ValueError(f"unknown device kind {kind!r}; known: {', '.join(DEVICE_KINDS)}")
            if not 0 <= low <= high <= 40:
                raise ValueError(f"{kind}: range must be [min, max] with 0 <= min <= max <= 40, got [{low}, {high}]")
        if sum(high for _, high in v.values()) > 200:
            raise ValueError("at most 200 devices per household (a /24 has 253 addresses)")
        return v

    @field_validator("neighbour_wifi")
    @classmethod
    def _wifi(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] <= v[1] <= 100:
            raise ValueError(f"must be [min, max] with 0 <= min <= max <= 100, got {list(v)}")
        return v

    @field_validator("locales")
    @classmethod
    def _locales(cls, v: dict[str, float]) -> dict[str, float]:
        from faker.config import AVAILABLE_LOCALES

        for loc, weight in v.items():
            if loc not in AVAILABLE_LOCALES:
                raise ValueError(f"unknown Faker locale {loc!r}")
            if weight < 0:
                raise ValueError(f"{loc}: weight must be >= 0")
        if not v or sum(v.values()) <= 0:
            raise ValueError("needs at least one locale with a positive weight")
        return v


class Benign(_Strict):
    """Background traffic of every device, so that detection is not trivial."""

    enabled: bool = True
    streaming_hours: tuple[float, float] = (19.0, 23.0)  # when the TV streams, local hours
    scanner_app: float = Field(0.0, ge=0.0, le=1.0)  # share of homes with a Fing-like phone app


class Scenario(_Strict):
    """A whole scenario file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    seed: int = Field(2021, ge=0, le=2**63 - 1)
    start: datetime = datetime(2021, 4, 23, 0, 0, tzinfo=UTC)
    duration: Seconds = Field(86400.0, gt=0, le=366 * 86400)
    households: Households = Households()
    tvs: Tvs = Tvs()
    benign: Benign = Benign()

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2021-04-23T00:00:00+08:00")
        return v

    @model_validator(mode="after")
    def _cycle_fits(self) -> Scenario:
        sdk = self.tvs.sdk
        if sdk is not None and sdk.jitter >= sdk.interval:
            raise ValueError(f"tvs.sdk.jitter ({sdk.jitter:g}s) must be smaller than tvs.sdk.interval ({sdk.interval:g}s)")
        return self

    @property
    def start_ts(self) -> float:
        """Start as epoch seconds (the capture's time origin)."""
        return self.start.timestamp()
