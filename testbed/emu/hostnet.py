"""Host-side plumbing of a lab's bridges (needs root, as dockerd does).

- The address Docker's IPAM puts on each internal bridge is removed, so that no container can reach
  the host itself: the lab's networks hold only the lab's containers.
- Multicast snooping is turned off on the bridges: with no IGMP querier, snooping would drop the mDNS
  and SSDP traffic that the devices and the SDK exchange.
- Docker's isolation rules for internal networks drop, with ``br_netfilter``, every bridged frame whose
  address is off the network's subnet: also the TV's frames to its gateway on the way to the "wan".
  One rule per bridge in ``DOCKER-USER`` accepts traffic that enters and leaves by the same bridge, which
  never leaves that bridge; it carries a comment naming the run so that ``lab prune`` finds it.
- Routes inside containers (devices -> wan and internet via their gateway; gateways -> internet node; wan
  services -> household subnets via the gateways; the internet node's whole TEST-NET-2 as local) are set
  from the host with ``nsenter``, so that no container needs ``CAP_NET_ADMIN``. So is a device's link,
  taken down while it is away from home.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from testbed.emu.labels import TESTBED_LABEL
from testbed.errors import RunError


def bridge_name(network_id: str) -> str:
    """The Linux bridge Docker makes for a user-defined network."""
    return f"br-{network_id[:12]}"


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode:
        raise RunError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return proc


def _comment(run_id: str) -> str:
    return f"{TESTBED_LABEL}:{run_id}"


def prepare_bridge(bridge: str, run_id: str) -> None:
    """Take the host's address off ``bridge``, stop multicast snooping, accept intra-bridge traffic."""
    _run(["ip", "addr", "flush", "dev", bridge])  # the network is made with inhibit_ipv4; this is a second lock
    snooping = Path(f"/sys/class/net/{bridge}/bridge/multicast_snooping")
    if snooping.exists():
        snooping.write_text("0")
    if shutil.which("iptables"):
        _run(["iptables", "-I", "DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment", "--comment",
              _comment(run_id), "-j", "ACCEPT"])


def release_bridges(run_id: str | None = None) -> int:
    """Delete the ``DOCKER-USER`` rules of run ``run_id`` (of every run when None); returns how many."""
    if not shutil.which("iptables"):
        return 0
    proc = _run(["iptables", "-S", "DOCKER-USER"], check=False)
    removed = 0
    for line in proc.stdout.splitlines():
        if f"{TESTBED_LABEL}:" not in line or (run_id and _comment(run_id) not in line):
            continue
        rule = line.split()[2:]  # drop "-A DOCKER-USER"
        rule = [part.strip('"') for part in rule]
        if _run(["iptables", "-D", "DOCKER-USER", *rule], check=False).returncode == 0:
            removed += 1
    return removed


def add_route(pid: int, destination: str, via: str) -> None:
    """``ip route replace destination via via`` inside the network namespace of process ``pid``."""
    _run(["nsenter", "-t", str(pid), "-n", "ip", "route", "replace", destination, "via", via])


def add_local_route(pid: int, destination: str) -> None:
    """Make every address of ``destination`` local inside the namespace of ``pid`` (one node answers for all)."""
    _run(["nsenter", "-t", str(pid), "-n", "ip", "route", "replace", "local", destination, "dev", "lo"])


def set_link(pid: int, ip: str, up: bool) -> None:
    """Bring the interface that holds ``ip`` up or down inside the namespace of ``pid``."""
    shown = _run(["nsenter", "-t", str(pid), "-n", "ip", "-o", "-4", "addr", "show", "to", f"{ip}/32"]).stdout.split()
    if len(shown) < 2:
        raise RunError(f"no interface holds {ip} in the namespace of process {pid}")
    _run(["nsenter", "-t", str(pid), "-n", "ip", "link", "set", "dev", shown[1], "up" if up else "down"])


def delete_default_route(pid: int) -> None:
    """Remove the default route inside the network namespace of process ``pid`` (if there is one)."""
    proc = _run(["nsenter", "-t", str(pid), "-n", "ip", "route", "show", "default"])
    if proc.stdout.strip():
        _run(["nsenter", "-t", str(pid), "-n", "ip", "route", "del", "default"])


def routes_of(pid: int) -> str:
    """The routing table inside the network namespace of process ``pid``."""
    return _run(["nsenter", "-t", str(pid), "-n", "ip", "route", "show"]).stdout
