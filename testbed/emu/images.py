"""Building the container backend's images: a base (pulled or debootstrapped) and the one node image.

The node image is built from the project's own wheel and its dependencies' wheels, made on the host and
installed offline, and carries a content-hash label: it is rebuilt only when the project changes.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from testbed.emu.docker_client import docker_client
from testbed.emu.labels import BASE_IMAGE, HASH_LABEL, NODE_IMAGE, TESTBED_LABEL
from testbed.errors import RunError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = PROJECT_ROOT / "docker" / "node.Dockerfile"
BASE_PACKAGES = ("python3", "python3-venv", "iputils-ping", "iproute2", "tcpdump", "ca-certificates")
SLIM_IMAGE = "python:3.11-slim"
_HASHED_DIRS = ("testbed", "collector_mock")
_HASHED_SUFFIXES = {".py", ".yaml", ".json", ".txt", ".html", ".css", ".csv", ".js"}

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def apt_mirror(sources_dir: Path = Path("/etc/apt/sources.list.d"), legacy: Path = Path("/etc/apt/sources.list")) -> str:
    """The Debian mirror the host's apt uses (``URIs:`` of a deb822 source, else a ``deb`` line).

    Read at build time so that no mirror's host is ever written into the repository.
    """
    for path in sorted(sources_dir.glob("*.sources")) if sources_dir.is_dir() else []:
        for block in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            fields = dict(
                (k.strip().lower(), v.strip()) for k, _, v in
                (line.partition(":") for line in block.splitlines() if ":" in line and not line.startswith("#"))
            )
            suites = fields.get("suites", "")
            if "uris" in fields and "security" not in suites and "security" not in fields["uris"]:
                return fields["uris"].split()[0]
    if legacy.is_file():
        for line in legacy.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return next(p for p in parts[1:] if "://" in p)
    raise RunError("no Debian mirror found in the host's apt sources (/etc/apt/sources.list.d/*.sources)")


def content_hash(base_id: str) -> str:
    """A hash of everything the node image is built from: sources, pyproject, Dockerfile, base image."""
    h = hashlib.sha256(base_id.encode())
    files = [PROJECT_ROOT / "pyproject.toml", PROJECT_ROOT / "setup.py", DOCKERFILE]
    for folder in _HASHED_DIRS:
        files += sorted(p for p in (PROJECT_ROOT / folder).rglob("*")
                        if p.is_file() and p.suffix in _HASHED_SUFFIXES and "__pycache__" not in p.parts)
    for path in files:
        h.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _debootstrap_base(client, log: Log) -> str:
    """Make ``tvtestbed-base:bookworm`` with debootstrap from the host's apt mirror (about a minute)."""
    if shutil.which("debootstrap") is None:
        raise RunError("no image registry reachable and debootstrap is missing: apt-get install debootstrap")
    mirror = apt_mirror()
    log(f"debootstrap bookworm from the host's apt mirror ({mirror}) ...")
    with tempfile.TemporaryDirectory(prefix="tvtestbed-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", "bookworm",
               str(rootfs), mirror]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise RunError(f"debootstrap failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
        # Package lists and caches are not needed at run time.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        repo, tag = BASE_IMAGE.split(":")
        client.api.import_image_from_stream(tar.stdout, repository=repo, tag=tag,
                                            changes=[f"LABEL {TESTBED_LABEL}=1"])
        if tar.wait():
            raise RunError("tar of the debootstrapped root file system failed")
    return BASE_IMAGE


def ensure_base(client, mode: str = "auto", log: Log = _quiet) -> tuple[str, str]:
    """The base image to build on and the Python it runs: ``(image, python)``.

    ``mode``: ``pull`` (python:3.11-slim), ``debootstrap``, or ``auto`` (an existing local base, else a pull,
    else debootstrap).
    """
    import docker.errors

    if mode not in ("auto", "pull", "debootstrap"):
        raise RunError(f"--base must be auto, pull or debootstrap, got {mode!r}")
    for name, python in ((BASE_IMAGE, "python3"), (SLIM_IMAGE, "python3")):
        if mode in ("auto", "debootstrap" if name == BASE_IMAGE else "pull"):
            try:
                client.images.get(name)
                return name, python
            except docker.errors.ImageNotFound:
                pass
    if mode in ("auto", "pull"):
        try:
            log(f"pulling {SLIM_IMAGE} ...")
            client.images.pull(SLIM_IMAGE)
            return SLIM_IMAGE, "python3"
        except docker.errors.APIError as exc:
            if mode == "pull":
                raise RunError(f"cannot pull {SLIM_IMAGE}: {exc.explanation or exc}") from None
            log(f"cannot pull {SLIM_IMAGE} (no registry reachable); building a base with debootstrap")
    return _debootstrap_base(client, log), "python3"


def _build_wheels(dest: Path, log: Log) -> None:
    log("building the project's wheels on the host (pip wheel) ...")
    # Pure Python (setup.py): a wheel with the compiled loops would be tied to the host's Python, and a
    # node runs the SDK live, it does not synthesise captures.
    env = {**os.environ, "TESTBED_PURE_PYTHON": "1"}
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", str(PROJECT_ROOT), "-w", str(dest)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RunError(f"pip wheel failed: {proc.stderr.strip()[-800:]}")


def _context_tar(wheels: Path) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(DOCKERFILE, arcname="Dockerfile")
        tar.add(wheels, arcname="wheels")
    buf.seek(0)
    return buf


def node_image_tag(digest: str) -> str:
    return f"{NODE_IMAGE}:{digest}"


def ensure_node_image(base: str = "auto", force: bool = False, log: Log = _quiet) -> str:
    """The node image for the project as it is now, built only if no image has its content hash."""
    client = docker_client()
    base_image, python = ensure_base(client, base, log)
    digest = content_hash(client.images.get(base_image).id)
    tag = node_image_tag(digest)
    if not force and client.images.list(filters={"label": f"{HASH_LABEL}={digest}"}):
        return tag
    with tempfile.TemporaryDirectory(prefix="tvtestbed-wheels-") as tmp:
        wheels = Path(tmp)
        _build_wheels(wheels, log)
        log(f"building {tag} on {base_image} ...")
        try:
            client.images.build(
                fileobj=_context_tar(wheels), custom_context=True, tag=tag, rm=True, forcerm=True,
                buildargs={"BASE": base_image, "PYTHON": python}, network_mode="none",
                labels={TESTBED_LABEL: "1", HASH_LABEL: digest},
            )
        except Exception as exc:  # docker.errors.BuildError carries the build log
            lines = [str(x.get("stream", x.get("error", ""))).strip() for x in getattr(exc, "build_log", [])]
            raise RunError(f"building {tag} failed: {exc}\n" + "\n".join(lines[-15:])) from None
    client.images.get(tag).tag(NODE_IMAGE, "latest")
    return tag
