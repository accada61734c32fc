"""The topology plan: from a validated config to the nodes that exist, their roles, shards, zones, addresses and ports.

Pure Python, no Pulumi. Backends and the sandbox never re-derive topology: they read this.
Addresses default to the node names (DNS names inside a deployment); a backend or the sandbox maps them with
`Plan.with_addresses` (the sandbox uses one 127.0.0.x per node).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Mapping

from .config import StackConfig

Role = Literal["primary", "replica", "sentinel"]


@dataclass(frozen=True)
class Node:
    """One process: a data node (primary or replica) or a Sentinel."""

    name: str
    role: Role
    shard: int | None
    zone: str | None
    address: str
    port: int
    bus_port: int | None = None
    primary: str | None = None  # for replicas: the name of the primary they replicate

    @property
    def is_data(self) -> bool:
        """True for primaries and replicas."""
        return self.role != "sentinel"


@dataclass(frozen=True)
class Plan:
    """All nodes of one deployment, in a stable order (shard, then primary before its replicas), and its Sentinels."""

    config: StackConfig
    nodes: tuple[Node, ...]
    sentinels: tuple[Node, ...] = ()

    @property
    def all_nodes(self) -> tuple[Node, ...]:
        """Data nodes followed by Sentinels."""
        return self.nodes + self.sentinels

    def node(self, name: str) -> Node:
        """The node called `name` (KeyError if none)."""
        for node in self.all_nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def primaries(self) -> tuple[Node, ...]:
        """The primary of every shard, by shard."""
        return tuple(n for n in self.nodes if n.role == "primary")

    def replicas_of(self, primary: Node) -> tuple[Node, ...]:
        """The replicas of one primary."""
        return tuple(n for n in self.nodes if n.primary == primary.name)

    def primary_of(self, node: Node) -> Node | None:
        """The primary a replica follows (None for primaries and Sentinels)."""
        return self.node(node.primary) if node.primary else None

    def with_addresses(self, addresses: Mapping[str, str]) -> "Plan":
        """A copy where each named node gets the given address (every node must be named, so none is forgotten)."""
        missing = [n.name for n in self.all_nodes if n.name not in addresses]
        if missing:
            raise KeyError(f"no address for {', '.join(missing)}")
        moved = lambda nodes: tuple(dataclasses.replace(n, address=addresses[n.name]) for n in nodes)  # noqa: E731
        return dataclasses.replace(self, nodes=moved(self.nodes), sentinels=moved(self.sentinels))

    def uses_hostnames(self) -> bool:
        """True when addresses are names rather than IPs (never a mix: REFERENCE.md pitfall 1)."""
        kinds = {_is_ip(n.address) for n in self.all_nodes}
        if len(kinds) > 1:
            raise ValueError("a plan must not mix IP addresses and host names")
        return kinds == {False}


def _is_ip(address: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _zone(zones: list[str], index: int) -> str | None:
    return zones[index % len(zones)] if zones else None


def _replica_zone(zones: list[str], primary_zone: str | None, shard: int, index: int) -> str | None:
    """A zone other than the primary's whenever there are >= 2 zones, spread round-robin."""
    if not zones:
        return None
    others = [z for z in zones if z != primary_zone] or zones
    return others[(shard + index) % len(others)]


def build_plan(cfg: StackConfig) -> Plan:
    """The plan for a validated config (no nodes for `serverless`: AWS places them)."""
    if cfg.topology == "serverless":
        return Plan(cfg, ())
    port = cfg.ports.redis
    bus = cfg.bus_port if cfg.topology == "cluster" else None
    nodes: list[Node] = []
    for shard in range(cfg.shards):
        prefix = f"{cfg.name}-s{shard}" if cfg.topology == "cluster" else cfg.name
        primary_zone = _zone(cfg.zones, shard)
        primary = Node(f"{prefix}-0", "primary", shard, primary_zone, f"{prefix}-0", port, bus)
        nodes.append(primary)
        for index in range(cfg.replicas_per_primary):
            name = f"{prefix}-{index + 1}"
            zone = _replica_zone(cfg.zones, primary_zone, shard, index)
            nodes.append(Node(name, "replica", shard, zone, name, port, bus, primary=primary.name))
    sentinels: list[Node] = []
    if cfg.topology == "sentinel" and cfg.sentinel:
        for index in range(cfg.sentinel.count):
            name = f"{cfg.name}-sentinel-{index}"
            sentinels.append(Node(name, "sentinel", None, _zone(cfg.zones, index), name, cfg.ports.sentinel))
    return Plan(cfg, tuple(nodes), tuple(sentinels))
