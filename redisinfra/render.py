"""Rendering: pure functions from a plan node to the exact files Redis and Sentinel read.

Docker, EC2, Kubernetes and the sandbox ship this text unchanged; only node addresses (in the plan) and file
locations (`Paths`) differ. Secrets never appear in `redis.conf` or `sentinel.conf`: they live in the files
`render_secret_files` returns (`secrets.conf`, `users.acl`, `sentinel-secrets.conf`), which backends mark secret.
Every directive that guards against a REFERENCE.md pitfall says which one.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import StackConfig
from .credentials import Secrets, acl_file
from .plan import Node, Plan

REDIS_CONF = "redis.conf"
SECRETS_CONF = "secrets.conf"
ACL_FILE = "users.acl"
SENTINEL_CONF = "sentinel.conf"
SENTINEL_SECRETS_CONF = "sentinel-secrets.conf"
TLS_CERT, TLS_KEY, TLS_CA = "redis.crt", "redis.key", "ca.crt"


@dataclass(frozen=True)
class Paths:
    """Where a node finds its files. Defaults are the container / VM layout."""

    conf_dir: str = "/etc/redis"
    data_dir: str = "/data"
    tls_dir: str = "/etc/redis/tls"

    def conf(self, name: str) -> str:
        """Absolute path of a config file."""
        return f"{self.conf_dir}/{name}"

    def tls(self, name: str) -> str:
        """Absolute path of a TLS file."""
        return f"{self.tls_dir}/{name}"

    @property
    def sentinel_state(self) -> str:
        """Sentinel's own, rewritable config: seeded once from `sentinel.conf`, never overwritten (pitfall 3)."""
        return f"{self.data_dir}/{SENTINEL_CONF}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _header(node: Node, cfg: StackConfig) -> list[str]:
    where = f", shard {node.shard}" if cfg.topology == "cluster" else ""
    zone = f", zone {node.zone}" if node.zone else ""
    return [f"# {cfg.name}: {node.name} ({node.role}{where}{zone}); rendered by redis-infra, edits are overwritten"]


def _text(lines: list[str]) -> str:
    """Join directives; "directive  # why" becomes a comment line above it (Redis has no trailing comments)."""
    out = []
    for line in lines:
        directive, sep, why = line.partition("  # ")
        if sep:
            out.append(f"# {why}")
        out.append(directive)
    return "\n".join(out) + "\n"


def _bind(node: Node, hostnames: bool) -> str:
    # With host names the process cannot bind its own name: it listens everywhere inside its container / pod.
    return "bind * -::*" if hostnames else f"bind {node.address}"


def _listen(cfg: StackConfig, port: int, paths: Paths, *, sentinel: bool = False) -> list[str]:
    tls = cfg.security.tls
    if not tls.enabled:
        return [f"port {port}"]
    protocols = "TLSv1.2 TLSv1.3" if tls.min_version == "TLSv1.2" else "TLSv1.3"
    lines = [
        "port 0  # plaintext refused: TLS only (pitfall 5)",
        f"tls-port {port}",
        f"tls-cert-file {paths.tls(TLS_CERT)}",
        f"tls-key-file {paths.tls(TLS_KEY)}",
        f"tls-ca-cert-file {paths.tls(TLS_CA)}",
        f"tls-auth-clients {dict(none='no', optional='optional', required='yes')[tls.client_auth]}",
        f"tls-protocols {_quote(protocols)}",
        "tls-prefer-server-ciphers yes",
        "tls-replication yes  # replication (and Sentinel's links) over TLS too",
    ]
    if cfg.topology == "cluster" and not sentinel:
        lines.append("tls-cluster yes  # the cluster bus over TLS")
    return lines


def _memory(cfg: StackConfig) -> list[str]:
    return [
        f"maxmemory {cfg.memory.maxmemory_bytes()}  # headroom for fork copy-on-write (pitfall 8)",
        f"maxmemory-policy {cfg.memory.policy}",
    ]


def _persistence(cfg: StackConfig) -> list[str]:
    p = cfg.persistence
    lines = [f"save {_quote(' '.join(p.rdb_schedule) if p.rdb else '')}", "dbfilename dump.rdb"]
    lines.append(f"appendonly {'yes' if p.aof else 'no'}")
    if p.aof:
        lines += [f"appendfsync {p.aof_fsync}", "aof-use-rdb-preamble yes"]
    lines.append("stop-writes-on-bgsave-error yes")
    return lines


def _replication(plan: Plan, node: Node, paths: Paths) -> list[str]:
    cfg = plan.config
    lines = [
        f"include {paths.conf(SECRETS_CONF)}  # masteruser/masterauth on every node: a primary can be demoted (pitfall 4)",
        "replica-read-only yes",
        "repl-diskless-sync yes",
        # Start the transfer as soon as every expected replica waits, instead of always sleeping the 5 s delay.
        f"repl-diskless-sync-max-replicas {cfg.replicas_per_primary}",
    ]
    if cfg.topology != "cluster":
        # Replicas report the address they connect from unless told (pitfall 1).
        lines += [f"replica-announce-ip {node.address}", f"replica-announce-port {node.port}"]
        primary = plan.primary_of(node)
        if primary is not None:
            lines.append(f"replicaof {primary.address} {primary.port}")
    return lines


def _cluster(plan: Plan, node: Node, paths: Paths, hostnames: bool) -> list[str]:
    cfg = plan.config
    assert cfg.cluster is not None
    lines = [
        "cluster-enabled yes",
        f"cluster-config-file {paths.data_dir}/nodes.conf  # persistent and writable (pitfall 7)",
        f"cluster-node-timeout {cfg.cluster.node_timeout_ms}",
        f"cluster-port {node.bus_port}",
        f"cluster-require-full-coverage {'yes' if cfg.cluster.require_full_coverage else 'no'}",
        "cluster-replica-validity-factor 10",
        "cluster-allow-reads-when-down no",
    ]
    # Announce what clients and peers must dial (pitfall 1); never mix names and IPs.
    if hostnames:
        lines += [f"cluster-announce-hostname {node.address}", "cluster-preferred-endpoint-type hostname"]
    else:
        lines += [f"cluster-announce-ip {node.address}"]
    if cfg.security.tls.enabled:
        lines += [f"cluster-announce-tls-port {node.port}", f"cluster-announce-port {node.port}"]
    else:
        lines += [f"cluster-announce-port {node.port}"]
    lines.append(f"cluster-announce-bus-port {node.bus_port}")
    return lines


def render_redis_conf(plan: Plan, node: Node, paths: Paths = Paths()) -> str:
    """`redis.conf` of one data node (no secrets: they are included from `secrets.conf` and `users.acl`)."""
    if not node.is_data:
        raise ValueError(f"{node.name} is a Sentinel; use render_sentinel_conf")
    cfg = plan.config
    hostnames = plan.uses_hostnames()
    lines = _header(node, cfg) + [
        _bind(node, hostnames),
        "protected-mode yes",
        *_listen(cfg, node.port, paths),
        f"dir {paths.data_dir}",
        f"aclfile {paths.conf(ACL_FILE)}  # auth on every node (pitfall 4); hashed passwords only",
        "acllog-max-len 128",
        *_memory(cfg),
        *_persistence(cfg),
        *_replication(plan, node, paths),
    ]
    if cfg.topology == "cluster":
        lines += _cluster(plan, node, paths, hostnames)
    lines += ["timeout 0", "tcp-keepalive 300", "loglevel notice", 'logfile ""', "daemonize no"]
    return _text(lines)


def render_sentinel_conf(plan: Plan, node: Node, paths: Paths = Paths()) -> str:
    """The seed `sentinel.conf` of one Sentinel; it is copied once to `paths.sentinel_state`, which Sentinel rewrites."""
    cfg = plan.config
    if node.role != "sentinel" or cfg.sentinel is None:
        raise ValueError(f"{node.name} is not a Sentinel")
    s = cfg.sentinel
    primary = plan.primaries()[0]
    hostnames = plan.uses_hostnames()
    lines = _header(node, cfg) + [
        _bind(node, hostnames),
        "protected-mode yes",
        *_listen(cfg, node.port, paths, sentinel=True),
        f"dir {paths.data_dir}",
    ]
    if hostnames:
        lines += ["sentinel resolve-hostnames yes", "sentinel announce-hostnames yes"]
    lines += [
        f"sentinel announce-ip {node.address}  # what peers and clients dial (pitfall 1)",
        f"sentinel announce-port {node.port}",
        # Identical on every Sentinel, or they silently split (pitfall 2).
        f"sentinel monitor {s.master_name} {primary.address} {primary.port} {s.quorum}",
        f"sentinel down-after-milliseconds {s.master_name} {s.down_after_ms}",
        f"sentinel failover-timeout {s.master_name} {s.failover_timeout_ms}",
        f"sentinel parallel-syncs {s.master_name} {s.parallel_syncs}",
        f"sentinel auth-user {s.master_name} sentinel",
    ]
    if s.master_reboot_down_after_ms:
        lines.append(f"sentinel master-reboot-down-after-period {s.master_name} {s.master_reboot_down_after_ms}")
    lines += [
        "sentinel deny-scripts-reconfig yes",
        f"include {paths.conf(SENTINEL_SECRETS_CONF)}  # requirepass, sentinel-pass, auth-pass (pitfall 4)",
        "loglevel notice", 'logfile ""', "daemonize no",
    ]
    return _text(lines)


def render_secret_files(plan: Plan, node: Node, secrets: Secrets) -> dict[str, str]:
    """The secret files of one node, by file name (all go to `paths.conf_dir`)."""
    cfg = plan.config
    if node.is_data:
        return {
            SECRETS_CONF: f"masteruser replicator\nmasterauth {_quote(secrets.password('replicator'))}\n",
            ACL_FILE: acl_file(cfg, secrets),
        }
    assert cfg.sentinel is not None
    name = cfg.sentinel.master_name
    return {SENTINEL_SECRETS_CONF: "\n".join([
        f"requirepass {_quote(secrets.sentinel_password)}",
        f"sentinel sentinel-pass {_quote(secrets.sentinel_password)}",
        f"sentinel auth-pass {name} {_quote(secrets.password('sentinel'))}",
    ]) + "\n"}


# Lines Sentinel folds into its state file from the secrets include on every rewrite (pitfall 4): stale after a
# rotation, so every start removes them and re-includes the secrets last, where they win.
_SENTINEL_REAPPLIED = ("include ", "requirepass ", "user ", "sentinel auth-pass ", "sentinel sentinel-pass ",
                       "sentinel sentinel-user ")


def sentinel_launch(paths: Paths = Paths(), binary: str = "redis-sentinel") -> str:
    """The shell script every self-hosted backend starts a Sentinel with (`sh -c <script>`).

    The state file is seeded once from the uploaded `sentinel.conf` and never overwritten, so the primary Sentinel
    learned survives a redeploy (pitfall 3); the secrets file is re-applied on every start, so a rotated password
    reaches Sentinels too. umask 077: the state file holds what Sentinel rewrote into it, passwords included.
    """
    state, seed = paths.sentinel_state, paths.conf(SENTINEL_CONF)
    strip = " ".join(f"-e '/^{prefix}/d'" for prefix in _SENTINEL_REAPPLIED)
    return (f"umask 077; [ -f {state} ] || cat {seed} > {state}; sed -i {strip} {state}; "
            f"echo 'include {paths.conf(SENTINEL_SECRETS_CONF)}' >> {state}; exec {binary} {state}")


def render_node(plan: Plan, node: Node, paths: Paths = Paths()) -> dict[str, str]:
    """The non-secret config file of a node, by file name."""
    if node.is_data:
        return {REDIS_CONF: render_redis_conf(plan, node, paths)}
    return {SENTINEL_CONF: render_sentinel_conf(plan, node, paths)}
