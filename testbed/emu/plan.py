"""The lab as data: which networks and containers a population becomes (built by ``testbed.emu.lab``).

As Mininet's ``Topo``: this records hosts and links only; nothing here talks to Docker.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from testbed.benign import scanner_phone
from testbed.population.model import Population
from testbed.scenario.model import Scenario
from testbed.sdk.gozen import upload_port

WAN_SUBNET = "203.0.113.0/24"  # TEST-NET-3: the lab's wan (gateways, resolver, collector)
WAN_DNS_IP = "203.0.113.53"
INTERNET_SUBNET = "198.51.100.0/24"  # TEST-NET-2: every other internet name, as in the simulation
# The node that answers for all of INTERNET_SUBNET. Not .80: this project's machines use that address for
# their own traffic, which the containment test would take for the lab's.
WAN_INTERNET_IP = "203.0.113.61"
WAN_BRIDGE_GATEWAY = "203.0.113.254"  # Docker's IPAM needs one; its address is removed from the bridge
WAN_ROUTER_BASE = 100  # gateway of household i is 203.0.113.(100 + i) on the wan side
MAX_HOUSEHOLDS = 150


@dataclass(frozen=True)
class NetworkPlan:
    """One internal Docker network."""

    key: str  # "wan" or the household id
    subnet: str
    gateway: str  # Docker's IPAM gateway: an unused address, taken off the host's bridge afterwards


@dataclass(frozen=True)
class NodePlan:
    """One container: its role, identity and addresses (``network`` first, then ``extra``)."""

    name: str  # population id (h0003-d04) or wan service name
    role: str  # device, tv, router, dns, collector
    hostname: str
    network: str
    ip: str
    mac: str | None = None
    household: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # (network key, ip) of further networks (the gateway's wan side)
    scanner: bool = False  # a phone with a network-scanner app (it sweeps the LAN now and then)

    def config(self) -> dict:
        """This node's entry in lab.json (what the node reads about itself)."""
        return {"role": self.role, "ip": self.ip, "household": self.household, "device": self.name,
                "scanner": self.scanner}


@dataclass
class LabPlan:
    """Every network and container of a lab, and the routes the host sets up."""

    run_id: str
    networks: list[NetworkPlan] = field(default_factory=list)
    services: list[NodePlan] = field(default_factory=list)  # on the wan: DNS and collector
    households: dict[str, list[NodePlan]] = field(default_factory=dict)  # router first, TVs last
    routes: list[tuple[str, str, str]] = field(default_factory=list)  # (node, destination subnet, via)
    local_routes: list[tuple[str, str]] = field(default_factory=list)  # (node, subnet it answers for)
    collector_ip: str = "203.0.113.7"
    collector_port: int = 80
    collector_tls: bool = False  # the SDK uploads over TLS: the collector serves HTTPS
    names: dict[str, str] = field(default_factory=dict)  # the wan resolver's table

    def nodes(self) -> list[NodePlan]:
        return self.services + [n for nodes in self.households.values() for n in nodes]


def _free_address(subnet: ipaddress.IPv4Network, used: set[str]) -> str:
    # The highest free address: routers and devices of the population sit low in the /24.
    for host in reversed(list(subnet.hosts())):
        if str(host) not in used:
            return str(host)
    raise ValueError(f"{subnet}: no free address for Docker's gateway")


def plan_lab(run_id: str, scenario: Scenario, population: Population) -> LabPlan:
    """The lab for ``population``: a wan with DNS, collector and "internet", and one network per household."""
    households = population.households
    if len(households) > MAX_HOUSEHOLDS:
        raise ValueError(f"the container backend runs at most {MAX_HOUSEHOLDS} households, got {len(households)}")
    sdk = scenario.tvs.sdk
    plan = LabPlan(run_id)
    if sdk is not None:
        plan.collector_ip = sdk.collector.ip
        plan.collector_port = upload_port(sdk.model_dump(mode="json"))
        plan.collector_tls = sdk.transport == "tls"
        plan.names[sdk.collector.domain] = sdk.collector.ip
    plan.networks.append(NetworkPlan("wan", WAN_SUBNET, WAN_BRIDGE_GATEWAY))
    plan.services.append(NodePlan("wan-dns", "dns", "ns1", "wan", WAN_DNS_IP))
    plan.services.append(NodePlan("wan-collector", "collector", "collector", "wan", plan.collector_ip))
    plan.services.append(NodePlan("wan-internet", "internet", "internet", "wan", WAN_INTERNET_IP))
    plan.local_routes.append(("wan-internet", INTERNET_SUBNET))
    wan = ipaddress.ip_network(WAN_SUBNET)
    for i, h in enumerate(households):
        subnet = ipaddress.ip_network(h.subnet)
        if subnet.overlaps(wan):
            raise ValueError(f"{h.id}: subnet {h.subnet} overlaps the wan {WAN_SUBNET}")
        used = {h.router.ip, *(d.ip for d in h.devices)}
        plan.networks.append(NetworkPlan(h.id, h.subnet, _free_address(subnet, used)))
        router_wan = str(wan.network_address + WAN_ROUTER_BASE + i)
        tv_ids = {tv.id for tv in h.tvs}
        scanner = scanner_phone(scenario, h)
        nodes = [NodePlan(h.router.id, "router", h.router.hostname, h.id, h.router.ip, h.router.mac, h.id,
                          (("wan", router_wan),))]
        nodes += [NodePlan(d.id, "device", d.hostname, h.id, d.ip, d.mac, h.id, scanner=d.id == scanner)
                  for d in h.devices if d.id not in tv_ids]
        nodes += [NodePlan(d.id, "tv", d.hostname, h.id, d.ip, d.mac, h.id) for d in h.devices if d.id in tv_ids]
        plan.households[h.id] = nodes
        # Every device reaches the wan and the internet through its gateway (nothing else is routable);
        # the gateway sends internet traffic to the internet node; the wan services answer back through it.
        plan.routes += [(n.name, net, h.router.ip) for n in nodes[1:] for net in (WAN_SUBNET, INTERNET_SUBNET)]
        plan.routes.append((h.router.id, INTERNET_SUBNET, WAN_INTERNET_IP))
        plan.routes += [(svc.name, h.subnet, router_wan) for svc in plan.services]
    return plan
