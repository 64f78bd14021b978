"""The detector registry (a plain dict) and ``name,key=value`` spec strings.

``make_detector('arp-sweep,window=30')``, ``make_detector('command,cmd="python my.py {pcap} {out}"')``.
Values may be quoted with ``"`` or ``'`` (then they may hold commas and ``=``); they are typed by the
``__init__`` annotation of the parameter (bool, int, float, str, Literal choices, ``X | None``).
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal

from .arp_sweep import ArpSweepDetector, ArpTrwDetector
from .base import Detector, DetectorError
from .beacon import BeaconDetector
from .blocklist import BlocklistDetector
from .command import CommandDetector
from .flow_anomaly import FlowAnomalyDetector
from .pii_leak import PiiLeakDetector

REGISTRY: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (ArpSweepDetector, ArpTrwDetector, PiiLeakDetector, BlocklistDetector, BeaconDetector,
                FlowAnomalyDetector, CommandDetector)
}
"""Detector name -> class. Plug-ins add themselves: ``REGISTRY["my-detector"] = MyDetector``."""

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def split_spec(spec: str) -> tuple[str, list[tuple[str, str]]]:
    """``'name,k=v,k2="a,b"'`` -> ``('name', [('k', 'v'), ('k2', 'a,b')])``; quotes are removed."""
    parts: list[str] = []
    buf: list[str] = []
    quote = None
    for ch in spec:
        if quote:
            if ch == quote:
                quote = None
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quote:
        raise DetectorError(f"detector spec {spec!r}: unterminated {quote} quote")
    parts.append("".join(buf))
    name = parts[0].strip()
    pairs = []
    for part in parts[1:]:
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise DetectorError(f"detector spec {spec!r}: expected key=value, got {part!r}")
        pairs.append((key.strip(), value))
    return name, pairs


def _convert(cls: type[Detector], key: str, raw: str, annotation: Any, default: Any) -> Any:
    where = f"{cls.name}: parameter {key}"
    if annotation is inspect.Parameter.empty:
        annotation = type(default) if default not in (None, inspect.Parameter.empty) else str
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or \
        typing.get_origin(annotation) is typing.Union else (annotation,)
    if type(None) in options and raw.strip().lower() in ("none", "null", ""):
        return None
    options = tuple(o for o in options if o is not type(None))
    errors = []
    for opt in options:
        if typing.get_origin(opt) is Literal:
            if raw in typing.get_args(opt):
                return raw
            errors.append(f"one of {', '.join(map(str, typing.get_args(opt)))}")
        elif opt is bool:
            low = raw.strip().lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            errors.append("true or false")
        elif opt in (int, float):
            try:
                return opt(raw)
            except ValueError:
                errors.append(f"a{'n' if opt is int else ''} {opt.__name__}")
        elif opt is str:
            return raw
    raise DetectorError(f"{where}: expected {' or '.join(errors)}, got {raw!r}")


def make_detector(spec: str) -> Detector:
    """A detector from a spec string such as ``arp-sweep,window=30`` (see the module docstring)."""
    name, pairs = split_spec(spec)
    cls = REGISTRY.get(name)
    if cls is None:
        raise DetectorError(f"unknown detector {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    params = {p.name: p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"}
    hints = typing.get_type_hints(cls.__init__)
    kwargs: dict[str, Any] = {}
    for key, raw in pairs:
        p = params.get(key)
        if p is None:
            raise DetectorError(
                f"detector {name!r} has no parameter {key!r}; its parameters: {', '.join(params) or '(none)'}"
            )
        if key in kwargs:
            raise DetectorError(f"detector spec {spec!r}: parameter {key!r} given twice")
        kwargs[key] = _convert(cls, key, raw, hints.get(key, p.annotation), p.default)
    return cls(**kwargs)
