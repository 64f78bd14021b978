"""``manifest.json``: what was run, with which tools, and the sha256 of every artifact."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("simpy", "faker", "flask", "pydantic", "dpkt", "communityid", "cryptography")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Versions of the testbed, Python and the packages that shape the output."""
    out = {"smarttv-testbed": _version("smarttv-testbed"), "python": platform.python_version()}
    out.update({name: _version(name) for name in PACKAGES})
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def write_manifest(root: Path, fields: dict[str, Any], known: dict[str, str] | None = None) -> dict[str, Any]:
    """Hash every artifact under ``root`` and write the manifest (no wall clock: it stays reproducible).

    ``known`` maps artifact paths (relative to ``root``) to sha256 digests already computed as they were
    written, so that a capture of many gigabytes is not read again.
    """
    known = known or {}
    artifacts = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            name = str(p.relative_to(root))
            artifacts[name] = {"sha256": known.get(name) or sha256_file(p), "bytes": p.stat().st_size}
    manifest = {**fields, "versions": versions(), "artifacts": artifacts}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
