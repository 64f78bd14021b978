"""Atomic writes of bench and report artifacts: a temporary sibling renamed into place."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def spec_dirname(spec: str, limit: int = 80) -> str:
    """A file-system-safe directory name for a detector spec: ``arp-sweep,window=30`` -> ``arp-sweep_window-30``.

    ``,`` becomes ``_`` and ``=`` becomes ``-`` so that specs stay readable. When anything else had to be
    replaced (``/``, spaces, a leading dot) or the name is too long, a short hash of the spec is appended
    so that two different specs never share a directory.
    """
    readable = spec.strip().replace(",", "_").replace("=", "-")
    name = _UNSAFE.sub("_", readable).strip("._") or "detector"
    if name != readable or len(name) > limit:
        digest = hashlib.sha256(spec.encode()).hexdigest()[:8]
        name = f"{name[:limit - 9]}-{digest}"
    return name


def write_atomic(path: Path, write: Callable[[IO[str]], Any]) -> None:
    """Write a text file through ``write(fh)`` into a temporary sibling, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """``data`` as indented JSON, atomically."""
    write_atomic(path, lambda fh: fh.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n"))


def write_jsonl_atomic(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line, atomically."""
    write_atomic(path, lambda fh: fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
