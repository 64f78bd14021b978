"""Header declarations: each protocol declares its fixed header once, as ``(name, struct format, default)``
fields, in network byte order unless said otherwise (the dpkt idiom). From that one declaration come a ``struct.Struct``, a
template with the defaults, field offsets for readers and tests, and, by ``+``, the combined layout of a
whole stack (Ethernet + IPv4 + UDP...) that the hot paths pack with a single ``Struct.pack`` call.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

Field = tuple[str, str, Any]


class Header:
    """A fixed-layout header declared as ``(name, struct format, default)`` fields."""

    def __init__(self, name: str, fields: Sequence[Field], byte_order: str = "!") -> None:
        self.name = name
        self.byte_order = byte_order
        self.fields: tuple[Field, ...] = tuple(fields)
        self.names: tuple[str, ...] = tuple(f[0] for f in self.fields)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"{name}: duplicate field names in {self.names}")
        # "!" (network order) and "<" add no alignment padding, so concatenated layouts pack exactly
        # like their parts.
        if byte_order not in ("!", ">", "<"):
            raise ValueError(f"{name}: byte order must be '!', '>' or '<', not {byte_order!r}")
        self.struct = struct.Struct(byte_order + "".join(f[1] for f in self.fields))
        self.size: int = self.struct.size
        self.defaults: tuple[Any, ...] = tuple(f[2] for f in self.fields)
        self.template: bytes = self.struct.pack(*self.defaults)
        self.offsets: dict[str, int] = {}
        fmt = byte_order
        for field_name, field_fmt, _ in self.fields:
            self.offsets[field_name] = struct.calcsize(fmt)
            fmt += field_fmt

    def pack(self, **values: Any) -> bytes:
        """Pack with defaults for every field not given (the readable, slower path)."""
        unknown = set(values) - set(self.names)
        if unknown:
            raise TypeError(f"{self.name}: unknown fields {sorted(unknown)}")
        return self.struct.pack(*(values.get(n, d) for n, d in zip(self.names, self.defaults, strict=True)))

    def unpack(self, data: bytes, offset: int = 0) -> dict[str, Any]:
        """Decode one header at ``offset`` into a ``{field: value}`` dict."""
        return dict(zip(self.names, self.struct.unpack_from(data, offset), strict=True))

    def __add__(self, other: Header) -> Header:
        """The layout of ``self`` followed by ``other``; field names become ``<header>.<field>``."""

        def qualified(h: Header) -> list[Field]:
            return [(n if "." in n else f"{h.name}.{n}", f, d) for n, f, d in h.fields]

        if self.byte_order != other.byte_order:
            raise ValueError(f"cannot join {self.name} and {other.name}: different byte orders")
        return Header(f"{self.name}+{other.name}", qualified(self) + qualified(other), self.byte_order)

    def __repr__(self) -> str:
        return f"Header({self.name!r}, {self.size} bytes: {', '.join(self.names)})"
