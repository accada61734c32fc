"""The stack config (Pulumi namespace `redis`) as one pydantic model tree: defaults and cross-field rules live here only.

Every field carries its documentation in `description`; the README's config table is generated from it
(`python -m redisinfra.docs`). Secure, production-grade defaults: TLS on, auth on, dangerous commands off,
maxmemory with copy-on-write headroom, persistence on.
"""
from __future__ import annotations

import re
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .sections.elasticache import DEFAULT_VERSION as ELASTICACHE_DEFAULT_VERSION
from .sections import BACKEND_SECTIONS, DockerSettings, EC2Settings, ElastiCacheSettings, KubernetesSettings
from .sections.base import RuleError, Strict
from .units import parse_share, parse_size

NAMESPACE = "redis"

Backend = Literal["elasticache", "ec2", "docker", "kubernetes"]
# "serverless" is ElastiCache Serverless only: AWS places the nodes, so the plan has none.
Topology = Literal["standalone", "replication", "sentinel", "cluster", "serverless"]
Engine = Literal["redis", "valkey"]
EvictionPolicy = Literal[
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
]

SELF_HOSTED: frozenset[str] = frozenset({"ec2", "docker", "kubernetes"})
# major.minor only: "7.x" strings make ElastiCache diff forever (REFERENCE.md).
ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {
    "redis": ("7.0", "7.1", "7.2", "7.4"),
    "valkey": ("7.2", "8.0", "8.1"),
}
DEFAULT_VERSION = {"redis": "7.2", "valkey": "8.0"}
# Commands that let any client wipe, stall or reconfigure a node. Checks prove they are refused.
DEFAULT_DISABLED_COMMANDS = ("FLUSHALL", "FLUSHDB", "KEYS", "CONFIG", "DEBUG", "SHUTDOWN", "MONITOR", "MODULE")
# Above this share of node memory a fork for BGSAVE / AOF rewrite can run the node out of memory (pitfall 8).
COW_HEADROOM_SHARE = 0.75
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")
_USER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Names this project reserves for its internal ACL users.
RESERVED_USERS = frozenset({"default", "replicator", "sentinel", "operator", "monitor"})


class TLS(Strict):
    """Transport encryption for clients, replication, Sentinel and the cluster bus."""

    enabled: bool = Field(True, description="Serve TLS only (`port 0` + `tls-port`), including replication and the cluster bus.")
    client_auth: Literal["none", "optional", "required"] = Field(
        "optional", description="Client certificates: `required` = mutual TLS, `optional` = verified when presented.")
    min_version: Literal["TLSv1.2", "TLSv1.3"] = Field("TLSv1.2", description="Oldest TLS protocol accepted.")
    cert_validity_days: int = Field(
        365, ge=1, le=825, description="Lifetime of generated certificates; the Pulumi backends renew them when 30 days remain.")


class User(Strict):
    """One application ACL user; its password is generated and exported as a secret."""

    name: str = Field(description="User name (lowercase, not one of default/replicator/sentinel/operator/monitor).")
    access: Literal["readwrite", "readonly", "admin"] = Field(
        "readwrite", description="`readwrite`: all data commands; `readonly`: read commands only; `admin`: also server commands.")
    keys: str = Field("~*", description="Key patterns, ACL syntax (`~app:*`).")
    channels: str = Field("&*", description="Pub/Sub channel patterns, ACL syntax.")

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str) -> str:
        # Only key selectors: anything else (e.g. "+@all") would widen the user's commands.
        if not value.split() or not all(re.match(r"^(%R|%W|%RW)?~\S+$|^allkeys$", t) for t in value.split()):
            raise ValueError(f"{value!r}: key patterns are space-separated ~pattern, %R~pattern, %W~pattern or allkeys")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: str) -> str:
        if not value.split() or not all(re.match(r"^&\S+$|^allchannels$", t) for t in value.split()):
            raise ValueError(f"{value!r}: channel patterns are space-separated &pattern or allchannels")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _USER.match(value):
            raise ValueError("user names are lowercase letters, digits, '-' and '_', starting with a letter, at most 32")
        if value in RESERVED_USERS:
            raise ValueError(f"'{value}' is reserved; choose another name (reserved: {', '.join(sorted(RESERVED_USERS))})")
        return value


class Auth(Strict):
    """Who may talk to Redis."""

    mode: Literal["password", "acl"] = Field(
        "password", description="`password`: one generated password for the default user; `acl`: named users, default user off.")
    users: list[User] = Field(default_factory=list, description="ACL users (mode `acl`); the first is the one the connection output uses.")

    @model_validator(mode="after")
    def _users(self) -> "Auth":
        if self.mode == "acl" and not self.users:
            raise RuleError("users", "mode 'acl' needs at least one user")
        if self.mode == "password" and self.users:
            raise RuleError("users", "only allowed with mode 'acl'")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise RuleError("users", "names must be unique")
        return self


class Security(Strict):
    """TLS, authentication and command restrictions."""

    tls: TLS = Field(default_factory=TLS, description="Transport encryption.")
    auth: Auth = Field(default_factory=Auth, description="Authentication.")
    disabled_commands: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DISABLED_COMMANDS),
        description="Commands no application user may run (removed from every user's ACL).")

    @field_validator("disabled_commands")
    @classmethod
    def _commands(cls, value: list[str]) -> list[str]:
        out = []
        for command in value:
            if not re.match(r"^[A-Za-z][A-Za-z|_-]*$", command):
                raise ValueError(f"{command!r} is not a command name")
            out.append(command.upper())
        return out


class Memory(Strict):
    """Memory limit and eviction."""

    maxmemory: int | str = Field(
        "75%", description="`maxmemory`: bytes, a size (`768mb`) or a share of `node_memory` (`75%`).")
    policy: EvictionPolicy = Field("volatile-lru", description="`maxmemory-policy` (ElastiCache's default).")
    node_memory: Optional[int | str] = Field(
        "1gb", description="Memory of one data node (container/pod limit or VM RAM); self-hosted only.")

    @field_validator("maxmemory")
    @classmethod
    def _maxmemory(cls, value: int | str) -> int | str:
        if parse_share(value) is None and parse_size(value) <= 0:
            raise ValueError("maxmemory must be above 0 (0 means unlimited, which a production node must not be)")
        return value

    @field_validator("node_memory")
    @classmethod
    def _node_memory(cls, value: int | str | None) -> int | str | None:
        if value is not None and parse_size(value) < 32 * 1024**2:
            raise ValueError("node_memory below 32mb cannot run Redis")
        return value

    def maxmemory_bytes(self) -> int:
        """maxmemory in bytes, resolving a share against node_memory."""
        share = parse_share(self.maxmemory)
        if share is None:
            return parse_size(self.maxmemory)
        if self.node_memory is None:
            raise ValueError("a share needs node_memory")
        return int(parse_size(self.node_memory) * share)

    def node_memory_bytes(self) -> int | None:
        """node_memory in bytes, or None where the backend decides (ElastiCache node types)."""
        return None if self.node_memory is None else parse_size(self.node_memory)


class Persistence(Strict):
    """What survives a restart."""

    mode: Optional[Literal["rdb", "aof", "both", "none"]] = Field(
        None, description="`rdb` snapshots, `aof` append-only file, `both`, or `none`. Default: `both` self-hosted, `rdb` (snapshots) on ElastiCache.")
    rdb_schedule: list[str] = Field(
        default_factory=lambda: ["3600 1", "300 100", "60 10000"],
        description="RDB `save` rules, each \"<seconds> <changes>\".")
    aof_fsync: Literal["always", "everysec", "no"] = Field("everysec", description="`appendfsync`.")

    @field_validator("rdb_schedule")
    @classmethod
    def _schedule(cls, value: list[str]) -> list[str]:
        for rule in value:
            match = re.match(r"^(\d+) (\d+)$", rule)
            if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
                raise ValueError(f"{rule!r}: each rule is \"<seconds> <changes>\", both at least 1, e.g. \"300 100\"")
        return value

    @property
    def rdb(self) -> bool:
        """RDB snapshots on."""
        return self.mode in ("rdb", "both")

    @property
    def aof(self) -> bool:
        """AOF on."""
        return self.mode in ("aof", "both")


class Sentinel(Strict):
    """Sentinel settings (topology `sentinel`)."""

    count: int = Field(3, ge=1, le=9, description="Number of Sentinels: odd, at least 3.")
    quorum: int = Field(2, ge=1, description="Sentinels that must agree the primary is down: a majority of `count`.")
    master_name: str = Field("mymaster", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Name Sentinels monitor the primary under.")
    down_after_ms: int = Field(5000, ge=100, description="`down-after-milliseconds`.")
    failover_timeout_ms: int = Field(60000, ge=1000, description="`failover-timeout`.")
    parallel_syncs: int = Field(1, ge=1, description="`parallel-syncs`: replicas resyncing at once after a failover.")
    master_reboot_down_after_ms: int = Field(
        0, ge=0, description="`master-reboot-down-after-period`: fail over a primary that restarted (0 = off).")

    @model_validator(mode="after")
    def _majority(self) -> "Sentinel":
        if self.count < 3 or self.count % 2 == 0:
            raise RuleError("count", f"{self.count} Sentinels cannot form a safe majority; use an odd number >= 3")
        majority = self.count // 2 + 1
        if not majority <= self.quorum <= self.count:
            raise RuleError(
                "quorum", f"{self.quorum} is not a majority of {self.count} Sentinels (allowed: {majority}..{self.count})")
        return self


class Cluster(Strict):
    """Redis Cluster settings (topology `cluster`)."""

    shards: int = Field(3, ge=1, le=500, description="Primaries (shards); at least 3 self-hosted.")
    node_timeout_ms: int = Field(5000, ge=500, description="`cluster-node-timeout`.")
    require_full_coverage: bool = Field(True, description="`cluster-require-full-coverage`.")


class Ports(Strict):
    """Ports every node listens on (each node has its own address, so they repeat)."""

    redis: int = Field(6379, ge=1, le=55535, description="Client port (the TLS port when TLS is on).")
    sentinel: int = Field(26379, ge=1, le=65535, description="Sentinel port.")
    cluster_bus: Optional[int] = Field(None, ge=1, le=65535, description="Cluster bus port; default client port + 10000.")


class StackConfig(Strict):
    """Everything under the `redis:` config namespace of one stack."""

    name: str = Field("redis", description="Deployment name: prefix of every resource (lowercase, <= 32).")
    backend: Backend = Field(description="Where Redis runs: `elasticache`, `ec2`, `docker` or `kubernetes`.")
    topology: Topology = Field(description="`standalone`, `replication` (primary + replicas), `sentinel`, `cluster` or `serverless` (ElastiCache only).")
    engine: Engine = Field("redis", description="`redis` or `valkey`.")
    version: Optional[str] = Field(None, description="Engine version `major.minor` (redis 7.0-7.4, valkey 7.2/8.0/8.1; ElastiCache: redis 7.0/7.1). Default: redis 7.2 (ElastiCache 7.1), valkey 8.0.")
    replicas: int = Field(2, ge=0, le=5, description="Replicas per primary (per shard with `cluster`).")
    zones: list[str] = Field(default_factory=list, description="Availability zones; replicas go to other zones than their primary.")
    restart: Literal["always", "on-failure", "never"] = Field(
        "always", description="Automatic restart of self-hosted nodes; `never` is required for primaries without persistence.")
    ports: Ports = Field(default_factory=Ports, description="Ports.")
    security: Security = Field(default_factory=Security, description="TLS, auth, disabled commands.")
    memory: Memory = Field(default_factory=Memory, description="maxmemory and eviction.")
    persistence: Persistence = Field(default_factory=Persistence, description="RDB / AOF.")
    sentinel: Optional[Sentinel] = Field(None, description="Sentinel settings (topology `sentinel`; defaults apply).")
    cluster: Optional[Cluster] = Field(None, description="Cluster settings (topology `cluster`; defaults apply).")
    docker: Optional[DockerSettings] = Field(None, description="Docker backend settings.")
    elasticache: Optional[ElastiCacheSettings] = Field(None, description="ElastiCache backend settings.")
    ec2: Optional[EC2Settings] = Field(None, description="EC2 backend settings.")
    kubernetes: Optional[KubernetesSettings] = Field(None, description="Kubernetes backend settings.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"write the version as a quoted string (\"{value}\"), a YAML number loses digits")
        return value

    @field_validator("zones")
    @classmethod
    def _zones(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("zones must be unique")
        return value

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any) -> Any:
        # Topology and backend sections get their defaults when the topology/backend is chosen and the key is absent.
        if isinstance(data, dict):
            data = dict(data)
            topology = data.get("topology")
            for key in ("sentinel", "cluster"):
                if isinstance(topology, str) and topology == key and data.get(key) is None:
                    data[key] = {}
            backend = data.get("backend") if isinstance(data.get("backend"), str) else None
            if backend in ("docker", "elasticache", "ec2", "kubernetes") and data.get(backend) is None:
                data[backend] = {}
            persistence = data.get("persistence")
            if not isinstance(persistence, dict) or persistence.get("mode") is None:
                if persistence is None or isinstance(persistence, dict):
                    data["persistence"] = {**(persistence or {}), "mode": "rdb" if backend == "elasticache" else "both"}
            engine = data.get("engine", "redis")
            if data.get("version") is None and isinstance(engine, str) and engine in DEFAULT_VERSION:
                defaults = ELASTICACHE_DEFAULT_VERSION if backend == "elasticache" else DEFAULT_VERSION
                data["version"] = defaults[engine]
        return data

    @model_validator(mode="after")
    def _rules(self) -> "StackConfig":
        _check(self)
        return self

    @property
    def self_hosted(self) -> bool:
        """True for backends that run the rendered configs (EC2, Docker, Kubernetes)."""
        return self.backend in SELF_HOSTED

    @property
    def shards(self) -> int:
        """Number of primaries."""
        return self.cluster.shards if self.cluster else 1

    @property
    def replicas_per_primary(self) -> int:
        """Replicas of each primary (0 for standalone and serverless, where AWS decides)."""
        return 0 if self.topology in ("standalone", "serverless") else self.replicas

    @property
    def bus_port(self) -> int:
        """Cluster bus port."""
        return self.ports.cluster_bus or self.ports.redis + 10000


def _check(cfg: StackConfig) -> None:
    """Cross-field rules; each raises RuleError with the key the user must change."""
    if cfg.version not in ENGINE_VERSIONS[cfg.engine]:
        raise RuleError("version", f"{cfg.version!r} is not a supported {cfg.engine} version "
                                   f"(allowed: {', '.join(ENGINE_VERSIONS[cfg.engine])})")
    if cfg.topology == "serverless" and cfg.backend != "elasticache":
        raise RuleError("topology", f"'serverless' is ElastiCache Serverless; backend {cfg.backend!r} allows "
                                    "standalone, replication, sentinel or cluster")
    for section in ("sentinel", "cluster"):
        if getattr(cfg, section) is not None and cfg.topology != section:
            raise RuleError(section, f"section given but topology is {cfg.topology!r}; remove it or set topology: {section}")
    for section in ("docker", "elasticache", "ec2", "kubernetes"):
        if getattr(cfg, section) is not None and cfg.backend != section:
            raise RuleError(section, f"section given but backend is {cfg.backend!r}; remove it or set backend: {section}")
    if cfg.topology == "standalone" and "replicas" in cfg.model_fields_set and cfg.replicas:
        raise RuleError("replicas", "standalone has no replicas; use topology 'replication' or set replicas: 0")
    if cfg.topology in ("replication", "sentinel", "cluster") and cfg.replicas < 1:
        failover = "automatic failover" if cfg.topology != "replication" else "replication"
        raise RuleError("replicas", f"topology {cfg.topology!r} needs at least 1 replica for {failover} (allowed: 1..5)")
    if cfg.topology == "cluster" and cfg.self_hosted and cfg.shards < 3:
        raise RuleError("cluster.shards", f"a self-hosted Redis Cluster needs at least 3 shards to elect a new primary (got {cfg.shards})")
    if cfg.security.auth.mode == "acl" and not cfg.security.tls.enabled and cfg.backend == "elasticache":
        raise RuleError("security.auth.mode", "ElastiCache RBAC needs TLS (security.tls.enabled: true)")
    _check_memory(cfg)
    _check_persistence(cfg)
    section = BACKEND_SECTIONS[cfg.backend]
    if hasattr(section, "check"):
        section.check(cfg)  # backend-specific rules live beside the backend's section model


def _check_memory(cfg: StackConfig) -> None:
    memory = cfg.memory
    share = parse_share(memory.maxmemory)
    if not cfg.self_hosted:
        if "maxmemory" in memory.model_fields_set or "node_memory" in memory.model_fields_set:
            raise RuleError("memory.maxmemory", "ElastiCache sizes memory from the node type; set elasticache.node_type instead")
        return
    if memory.node_memory is None:
        raise RuleError("memory.node_memory", "self-hosted backends need the node memory (e.g. 1gb)")
    limit = parse_size(memory.node_memory)
    maxmemory = memory.maxmemory_bytes()
    ceiling = COW_HEADROOM_SHARE if cfg.persistence.mode != "none" else 0.9
    if maxmemory > limit * ceiling + 1:
        why = "leave room for fork copy-on-write while persistence is on" if cfg.persistence.mode != "none" else "leave room for buffers and fragmentation"
        shown = f"{share:.0%}" if share is not None else str(memory.maxmemory)
        raise RuleError("memory.maxmemory", f"{shown} of a {memory.node_memory} node is too much: {why} "
                                            f"(allowed: at most {ceiling:.0%} of node_memory)")


def _check_persistence(cfg: StackConfig) -> None:
    if cfg.backend == "elasticache" and cfg.persistence.aof:
        raise RuleError("persistence.mode", "ElastiCache replication groups do not support AOF; use 'rdb' (snapshots) or 'none'")
    has_replicas = cfg.replicas_per_primary > 0
    if (cfg.self_hosted and cfg.persistence.mode == "none" and has_replicas and cfg.restart != "never"
            and not (cfg.sentinel and cfg.sentinel.master_reboot_down_after_ms > 0)):
        raise RuleError(
            "restart",
            f"{cfg.restart!r} restarts a primary without persistence empty and its replicas then wipe themselves; "
            "set restart: never, enable persistence, or set sentinel.master_reboot_down_after_ms")


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out



def model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the field at `loc` (for did-you-mean on unknown keys)."""
    import typing

    model: Any = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        # Unwrap Optional[...] / list[...] down to the model class.
        while typing.get_origin(annotation) is not None:
            args = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            if not args:
                args = [a for a in typing.get_args(annotation) if typing.get_origin(a) is not None]
            if not args:
                break
            annotation = args[0]
        model = annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


__all__ = [
    "NAMESPACE", "StackConfig", "Security", "TLS", "Auth", "User", "Memory", "Persistence", "Sentinel",
    "Cluster", "Ports", "RuleError", "ENGINE_VERSIONS", "DEFAULT_DISABLED_COMMANDS", "model_at",
]
