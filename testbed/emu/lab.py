"""A lab made real: the plan's internal networks and containers in Docker, torn down on any failure.

``Lab`` is a context manager (as testcontainers' containers and networks): entering creates the
networks, leaving removes everything the lab made unless ``keep`` (teaching mode) is set. Every container
waits explicitly until its node prints ``ready``, never on a fixed sleep. Containers join only the lab's
``internal`` networks, never the host's network, with every capability dropped but the ones a role needs.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from testbed.emu.docker_client import docker_client
from testbed.emu.hostnet import (
    add_local_route,
    add_route,
    bridge_name,
    delete_default_route,
    prepare_bridge,
    release_bridges,
    set_link,
)
from testbed.emu.labels import RUN_LABEL, TESTBED_LABEL, labels
from testbed.emu.plan import LabPlan, NodePlan
from testbed.errors import RunError

READY_TIMEOUT_S = 60.0
# What each role may do beyond an unprivileged process: the TV's scanner needs raw sockets (ARP, ICMP), the
# router raw ARP (it refreshes its neighbours), and so does a phone's scanner app (``SCANNER_CAPS``); nothing
# needs NET_ADMIN (routes and links are set from the host) and nothing is privileged.
CAPS: dict[str, list[str]] = {"tv": ["NET_RAW"], "device": [], "router": ["NET_RAW"], "dns": [], "collector": [],
                              "internet": []}
SCANNER_CAPS = ["NET_RAW"]
READY_LINE = {"collector": "Listening at"}


def container_name(run_id: str, node: str) -> str:
    return f"tvt-{run_id}-{node}"


class Lab:
    """The Docker side of one run: ``create_networks()``, then ``start_nodes()``; ``down()`` removes all."""

    def __init__(self, plan: LabPlan, image: str, lab_dir: Path, out_dir: Path, data_dir: Path,
                 lab_config: dict[str, Any], keep: bool = False, log: Callable[[str], None] = lambda _: None) -> None:
        self.plan = plan
        self.image = image
        self.lab_dir, self.out_dir, self.data_dir = lab_dir, out_dir, data_dir
        self.lab_config = lab_config
        self.keep = keep
        self.log = log
        self.client = docker_client()
        self.networks: dict[str, Any] = {}  # plan key -> docker Network
        self.containers: dict[str, Any] = {}  # node name -> docker Container
        self.bridges: dict[str, str] = {}  # plan key -> host bridge
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> Lab:
        try:
            self.create_networks()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # A failed or interrupted run never leaves a lab behind, even in teaching mode.
        if exc_type is not None or not self.keep:
            self.down()

    # ------------------------------------------------------------------ bring-up

    def create_networks(self) -> None:
        """One ``internal`` network per household and the wan, their bridges prepared on the host."""
        import docker.errors
        import docker.types

        t0 = time.monotonic()
        config = {**self.lab_config, "nodes": {n.name: n.config() for n in self.plan.nodes()}}
        (self.lab_dir / "lab.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        for net in self.plan.networks:
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=net.subnet, gateway=net.gateway)])
            try:
                network = self.client.networks.create(
                    f"tvt-{self.plan.run_id}-{net.key}", driver="bridge", internal=True, ipam=ipam,
                    labels=labels(self.plan.run_id, network=net.key), check_duplicate=True,
                    # No address on the host's side of the bridge, hence no host route into the lab.
                    options={"com.docker.network.bridge.inhibit_ipv4": "true"},
                )
            except docker.errors.APIError as exc:
                if "overlaps" in str(exc):
                    raise RunError(f"{net.key} ({net.subnet}) overlaps a network that exists already: another lab "
                                   "is running (tvtestbed lab status; tvtestbed lab down)") from None
                raise
            self.networks[net.key] = network
            self.bridges[net.key] = bridge_name(network.id)
            prepare_bridge(self.bridges[net.key], self.plan.run_id)
        self.timings["networks_s"] = time.monotonic() - t0

    def start_nodes(self, workers: int = 8) -> None:
        """Start the wan services, then every household node at once, and wait until all are ready.

        Nothing in a household waits for another node to be up: the TV's first cycle begins only after its
        first delay, by which time the whole lab answers.
        """
        t0 = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            list(pool.map(self._start_ready, self.plan.services))
            list(pool.map(self._start_ready, [n for nodes in self.plan.households.values() for n in nodes]))
        finally:
            # On Ctrl-C or a failed node, start nothing more: the lab is torn down next.
            pool.shutdown(wait=True, cancel_futures=True)
        self.timings["nodes_s"] = time.monotonic() - t0
        self.timings["containers"] = len(self.containers)

    def _start_ready(self, node: NodePlan) -> None:
        container = self.start_node(node)
        self.wait_ready(node, container)

    def start_node(self, node: NodePlan) -> Any:
        """Create and start the container of ``node`` (it is not yet known to be ready)."""
        network = self.networks[node.network]
        volumes = {str(self.lab_dir): {"bind": "/lab", "mode": "ro"}}
        if node.role == "tv":
            volumes[str(self.out_dir)] = {"bind": "/out", "mode": "rw"}
        if node.role == "collector":
            volumes[str(self.data_dir)] = {"bind": "/data", "mode": "rw"}
        dns = [self.plan.households[node.household][0].ip] if node.household else [self.lab_config["dns_ip"]]
        kwargs: dict[str, Any] = dict(
            name=container_name(self.plan.run_id, node.name), hostname=node.hostname,
            labels=labels(self.plan.run_id, role=node.role, node=node.name),
            environment={"TESTBED_NODE": node.name}, volumes=volumes, detach=True,
            network=network.name,
            networking_config={network.name: self.client.api.create_endpoint_config(ipv4_address=node.ip)},
            cap_drop=["ALL"], cap_add=(SCANNER_CAPS if node.scanner else CAPS[node.role]) or None, dns=dns,
            init=False,
            # Unprivileged ports from 0: responders bind 53, 80, 137 without CAP_NET_BIND_SERVICE.
            # IPv6 off: the lab's networks are IPv4 only (no router solicitations or MLD chatter).
            sysctls={"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv6.conf.all.disable_ipv6": "1",
                     **({"net.ipv4.ip_forward": "1"} if node.role == "router" else {})},
            mem_limit="256m", security_opt=["no-new-privileges"],
        )
        if node.mac:
            kwargs["mac_address"] = node.mac
        container = self.client.containers.create(self.image, **kwargs)
        self.containers[node.name] = container
        for key, ip in node.extra:
            self.networks[key].connect(container, ipv4_address=ip)
        container.start()
        self._add_routes(node, container)
        return container

    def _add_routes(self, node: NodePlan, container: Any) -> None:
        container.reload()
        pid = container.attrs["State"]["Pid"]
        # Docker gives even internal networks a default route (to the gateway address that is not there):
        # remove it, so that nothing but the lab's own subnets is routable from inside.
        delete_default_route(pid)
        self._add_plan_routes(node, pid)
        for name, destination in self.plan.local_routes:
            if name == node.name:
                add_local_route(pid, destination)

    def _add_plan_routes(self, node: NodePlan, pid: int) -> None:
        for name, destination, via in self.plan.routes:
            if name == node.name:
                add_route(pid, destination, via)

    def set_present(self, name: str, present: bool) -> None:
        """Take a device's link down (it left home: no ARP, no ping, nothing sent) or up again with its routes.

        Not ``docker pause``: a frozen container's kernel still answers ARP and ping.
        """
        node = next(n for n in self.plan.nodes() if n.name == name)
        container = self.container(name)
        container.reload()
        pid = container.attrs["State"]["Pid"]
        set_link(pid, node.ip, present)
        if present:  # routes through a link leave with it
            self._add_plan_routes(node, pid)

    def restart(self, name: str) -> None:
        """Start a stopped node again: a new network namespace, so its routes are set again."""
        node = next(n for n in self.plan.nodes() if n.name == name)
        container = self.container(name)
        since = int(time.time())
        container.start()
        self._add_routes(node, container)
        self.wait_ready(node, container, since=since)

    def wait_ready(self, node: NodePlan, container: Any, timeout: float = READY_TIMEOUT_S,
                   since: int | None = None) -> None:
        """Wait until the node says it is ready; raise with its log if it exits or takes too long.

        Follows the log as a stream (one connection, no polling of the engine); the stream ends when the
        container exits.
        """
        needle = READY_LINE.get(node.role, "ready").encode()
        seen = b""
        done = threading.Event()
        timer = threading.Timer(timeout, lambda: done.is_set() or container.kill())
        timer.start()
        try:
            for chunk in container.logs(stream=True, follow=True, since=since):
                seen = (seen + chunk)[-4000:]
                if needle in seen:
                    done.set()
                    return
        finally:
            timer.cancel()
        logs = seen.decode("utf-8", "replace")
        raise RunError(f"{node.name} ({node.role}) exited or was not ready after {timeout:.0f}s:\n{logs[-1500:]}")

    # ------------------------------------------------------------------ faults and teardown

    def container(self, node: str) -> Any:
        try:
            return self.containers[node]
        except KeyError:
            raise RunError(f"no node {node!r} in this lab; nodes: {', '.join(sorted(self.containers))}") from None

    def stop(self, node: str, timeout: int = 5) -> None:
        """Stop ``node`` gracefully (the collector finishes its requests and closes its database)."""
        self.container(node).stop(timeout=timeout)

    def down(self) -> None:
        """Remove every container and network of this lab, and its host rules."""
        prune(self.plan.run_id)


def prune(run_id: str | None = None) -> dict[str, int]:
    """Remove the testbed's containers, networks and host rules (of ``run_id``, or of every run)."""
    client = docker_client()
    selector = {"label": f"{RUN_LABEL}={run_id}" if run_id else f"{TESTBED_LABEL}=1"}
    removed = {"containers": 0, "networks": 0, "rules": 0}
    containers = client.containers.list(all=True, filters=selector)

    def remove(container: Any) -> None:
        try:
            container.remove(force=True)
        except Exception as exc:  # already gone is fine
            if "No such container" not in str(exc) and "already in progress" not in str(exc):
                raise

    # One at a time: Docker 20.10 can leave a stale endpoint behind when it force-removes containers
    # concurrently, and a network with a stale endpoint cannot be removed until dockerd restarts.
    names = {c.name for c in containers}
    for container in containers:
        remove(container)
    removed["containers"] = len(containers)
    for attempt in range(10):
        busy = []
        for network in client.networks.list(filters=selector):
            try:
                network.remove()
                removed["networks"] += 1
            except Exception as exc:
                if "active endpoints" not in str(exc) or attempt == 9:
                    raise
                busy.append(network)
        if not busy:
            break
        # A container started as Ctrl-C came may have appeared since; and a forced disconnect by name
        # clears an endpoint whose container is already gone.
        for container in client.containers.list(all=True, filters=selector):
            names.add(container.name)
            remove(container)
        for network in busy:
            for name in names:
                with contextlib.suppress(Exception):  # no such endpoint: nothing to clear
                    client.api.disconnect_container_from_network(name, network.id, force=True)
        time.sleep(0.5)
    removed["rules"] = release_bridges(run_id)
    return removed
