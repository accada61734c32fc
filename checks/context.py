"""What every check shares: the contract, the settings, one client per reachable node, and who is primary now."""
from __future__ import annotations

import functools
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

import redis

from redisinfra import clients
from redisinfra.connection import Connection, Endpoint

from .model import Settings

DATA_ROLES = ("primary", "replica")


def one_line(error: BaseException | str) -> str:
    """An error as one short line (redis-py and ssl messages can span lines)."""
    text = error if isinstance(error, str) else (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    return " ".join(str(text).split())[:300]


@functools.lru_cache(maxsize=256)
def _addresses(host: str) -> frozenset[str]:
    """The IP addresses a host name (or IP) stands for; empty when it does not resolve."""
    try:
        return frozenset(info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError):
        return frozenset()


@dataclass
class Context:
    """The deployment under test, as the contract describes it and as its nodes answered."""

    connection: Connection
    settings: Settings = field(default_factory=Settings)
    nodes: dict[str, redis.Redis] = field(default_factory=dict)  # reachable endpoints' clients, by name
    unreachable: dict[str, str] = field(default_factory=dict)  # endpoint name -> why
    primaries: dict[int, Endpoint] = field(default_factory=dict)  # shard -> current primary
    primaries_source: str = "contract"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- endpoints -----------------------------------------------------------------------------------------

    @property
    def data(self) -> list[Endpoint]:
        """Data node endpoints (primaries and replicas)."""
        return self.connection.by_role(*DATA_ROLES)

    @property
    def sentinels(self) -> list[Endpoint]:
        """Sentinel endpoints."""
        return self.connection.by_role("sentinel")

    def endpoint_at(self, host: str, port: int | str) -> Endpoint | None:
        """The endpoint a node announces itself as (host:port), if the contract lists it.

        Nodes that announce host names still report peers by IP (CLUSTER NODES, INFO replication), so a host
        also matches an endpoint whose name resolves to it.
        """
        matches = [e for e in self.connection.endpoints if e.port == int(port) and e.host == host]
        if not matches:
            addresses = _addresses(host)
            matches = [e for e in self.connection.endpoints
                       if e.port == int(port) and addresses & _addresses(e.host)]
        # A managed endpoint (configuration, reader) may share a node's address: the node itself wins.
        return next((e for e in matches if e.role in (*DATA_ROLES, "sentinel")), matches[0] if matches else None)

    def client(self, endpoint: Endpoint, **overrides: object) -> redis.Redis:
        """A new client for an endpoint, with the checks' timeout."""
        return clients.client(self.connection, endpoint, timeout=self.settings.timeout, **overrides)

    def node(self, name: str) -> redis.Redis | None:
        """The shared client of a reachable node."""
        return self.nodes.get(name)

    def close(self) -> None:
        """Close every shared client."""
        for conn in self.nodes.values():
            conn.close()

    # -- who is primary now --------------------------------------------------------------------------------

    def discover_primaries(self) -> None:
        """Who is primary now: the Sentinels' majority, the cluster's view, or the contract (no automatic failover)."""
        topology = self.connection.topology
        found: dict[int, Endpoint] = {}
        if topology == "sentinel":
            found, self.primaries_source = self._sentinel_primary(), "Sentinels"
        elif topology == "cluster":
            found, self.primaries_source = self._cluster_primaries(), "cluster"
        if not found:
            self.primaries_source = "contract"
            found = {e.shard or 0: e for e in self.connection.by_role("primary")}
        self.primaries = found

    def sentinel_answers(self) -> dict[str, tuple[str, int] | None | redis.RedisError]:
        """What each reachable Sentinel names as the primary: (host, port), None, or the error it gave."""
        answers: dict[str, tuple[str, int] | None | redis.RedisError] = {}
        for sentinel in self.sentinels:
            conn = self.node(sentinel.name)
            if conn is None:
                continue
            try:
                address = conn.sentinel_get_master_addr_by_name(self.connection.sentinel_master)
                answers[sentinel.name] = (str(address[0]), int(address[1])) if address else None
            except redis.RedisError as error:
                answers[sentinel.name] = error
        return answers

    def _sentinel_primary(self) -> dict[int, Endpoint]:
        votes = Counter(a for a in self.sentinel_answers().values() if isinstance(a, tuple))
        if not votes:
            return {}
        endpoint = self.endpoint_at(*votes.most_common(1)[0][0])
        return {endpoint.shard or 0: endpoint} if endpoint else {}

    def _cluster_primaries(self) -> dict[int, Endpoint]:
        # Each node's own `myself` line is authoritative for its role; gossip about others may lag a failover.
        found = {}
        for endpoint in self.data:
            conn = self.node(endpoint.name)
            if conn is None:
                continue
            try:
                me = next((n for n in cluster_nodes(conn) if "myself" in n["flags"]), None)
            except redis.RedisError:
                continue
            if me and "master" in me["flags"] and me["slots"]:
                found[endpoint.shard or 0] = endpoint
        return found

    def primary_of(self, endpoint: Endpoint) -> Endpoint | None:
        """The current primary of an endpoint's shard."""
        return self.primaries.get(endpoint.shard or 0)


def cluster_nodes(conn: redis.Redis) -> list[dict]:
    """`CLUSTER NODES` parsed without redis-py's callbacks: id, host, port, flags, master id, link, slots."""
    raw = conn.execute_command("CLUSTER", "NODES")  # split words: redis-py's "CLUSTER NODES" callback would parse it
    out = []
    for line in str(raw).splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        address, _, hostname = parts[1].partition(",")  # ip:port@bus[,hostname] (Redis 7 announces host names here)
        host, _, port = address.split("@")[0].rpartition(":")
        out.append({"id": parts[0], "host": host, "port": int(port or 0), "hostname": hostname,
                    "flags": parts[2].split(","),
                    "master": None if parts[3] == "-" else parts[3], "link": parts[7], "slots": parts[8:]})
    return out


def discover_cluster(connection: Connection, timeout: float) -> Connection:
    """A managed cluster known only by its configuration endpoint: the contract plus one endpoint per node.

    Nodes come from `CLUSTER NODES` of the configuration endpoint (host names when the cluster announces them, as
    ElastiCache does with TLS, so certificates still verify). Without a configuration endpoint, or with data nodes
    already listed, the contract is returned unchanged.
    """
    configuration = connection.by_role("configuration")
    if connection.topology != "cluster" or not configuration or connection.by_role(*DATA_ROLES):
        return connection
    with clients.client(connection, configuration[0], timeout=timeout) as conn:
        view = cluster_nodes(conn)
    masters = sorted((n for n in view if "master" in n["flags"] and n["slots"] and "fail" not in n["flags"]),
                     key=lambda n: int(n["slots"][0].split("-")[0].lstrip("[")))
    def endpoint(entry: dict, role: str, shard: int, primary: str | None) -> Endpoint:
        host = entry["hostname"] or entry["host"]
        return Endpoint(name=host.split(".")[0] if entry["hostname"] else f"{host}:{entry['port']}", host=host,
                        port=entry["port"], role=role, shard=shard, primary=primary)
    found: list[Endpoint] = []
    for shard, master in enumerate(masters):
        primary = endpoint(master, "primary", shard, None)
        found.append(primary)
        found += [endpoint(n, "replica", shard, primary.name) for n in view
                  if n["master"] == master["id"] and "fail" not in n["flags"]]
    return connection.model_copy(update={"endpoints": [*connection.endpoints, *found]})
