"""A household's LAN as the simulation sees it: nodes with byte-form addresses, presence, counters."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from testbed.population.model import Device, Household
from testbed.population.presence import at_home


@dataclass(slots=True)
class Node:
    """One device on the simulated wire, with its addresses pre-packed for the frame templates."""

    device: Device
    mac: bytes
    ip: bytes
    host_index: int  # last octet: the node's place in the /24
    utc_offset_s: float
    next_port: int = 49152
    ip_id: int = 1
    icmp_seq: int = 0
    answers_mdns: bool = False
    cache: dict = field(default_factory=dict)  # per-node template objects (ARP sweeper, ...)

    def present(self, ts_s: float) -> bool:
        """Whether the device is at home (not inside one of its daily away windows) at ``ts_s``."""
        away = self.device.away
        return not away or at_home(away, self.utc_offset_s, ts_s)  # most devices never leave: no call

    def ephemeral_port(self) -> int:
        """The next client port, cycling through the IANA dynamic range as real stacks do."""
        port = self.next_port
        self.next_port = 49152 if port >= 65535 else port + 1
        return port

    def next_ip_id(self) -> int:
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id


def _mdns_speaker(device: Device) -> bool:
    # Apple and Linux stacks answer reverse-PTR mDNS questions; other devices only if they run a
    # responder for their own services.
    return bool(device.services) or device.os in ("ios", "macos", "linux")


class SimLan:
    """All nodes of one household, indexed by address."""

    def __init__(self, household: Household, utc_offset_s: float, rng_seed: int) -> None:
        self.household = household
        self.network = ipaddress.ip_network(household.subnet)
        self.base = int(self.network.network_address)
        self.router = self._node(household.router, utc_offset_s, rng_seed)
        self.by_index: dict[int, Node] = {self.router.host_index: self.router}
        self.by_id: dict[str, Node] = {self.router.device.id: self.router}
        for device in household.devices:
            node = self._node(device, utc_offset_s, rng_seed)
            self.by_index[node.host_index] = node
            self.by_id[device.id] = node
        self.by_ip: dict[str, Node] = {node.device.ip: node for node in self.by_index.values()}

    def _node(self, device: Device, utc_offset_s: float, rng_seed: int) -> Node:
        ip = ipaddress.ip_address(device.ip)
        index = int(ip) - self.base
        node = Node(device, bytes.fromhex(device.mac.replace(":", "")), ip.packed, index, utc_offset_s)
        # Spread starting ports so two devices do not open identical-looking flows.
        node.next_port = 49152 + (rng_seed ^ (index * 7919)) % 12000
        node.ip_id = (rng_seed >> 16 ^ index * 104729) & 0xFFFF
        node.answers_mdns = _mdns_speaker(device)
        return node

    def host_ip(self, index: int) -> bytes:
        """The packed address of host ``index`` of the /24."""
        return (self.base + index).to_bytes(4, "big")
