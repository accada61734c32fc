"""The Docker backend's pure parts (no Pulumi): addressing, file layout, commands, health checks, cluster join.

Addressing (REFERENCE.md pitfall 1). A node announces one address, and two kinds of dialers must reach it: clients
on the host (through a port published on loopback) and the node's peers (replicas, Sentinels, cluster bus). Docker
gives them different views (host loopback vs. the container's bridge IP), so this backend makes the views equal:
all nodes share ONE network namespace, held by an anchor container on the stack's bridge network (a "pod"), and
every node gets its own port, the same number inside the pod and on the host. Every node announces
`<announce_host>:<its port>` (default `localhost`): on the host that name is loopback and the published port
forwards into the pod; inside the pod it is the pod's own loopback. Sentinel (`announce-hostnames`) and Cluster
(`cluster-preferred-endpoint-type hostname`) hand out exactly that address, so failover and MOVED redirections
work for both. The bus ports stay unpublished (only peers use them).
"""
from __future__ import annotations

import dataclasses
import shlex

from redisinfra.config import StackConfig
from redisinfra.plan import Node, Plan
from redisinfra.render import (
    ACL_FILE, REDIS_CONF, SECRETS_CONF, SENTINEL_CONF, SENTINEL_SECRETS_CONF, TLS_CA, TLS_CERT, TLS_KEY, Paths,
    sentinel_launch,
)
from redisinfra.sections.docker import DockerSettings
from redisinfra.units import parse_size

PATHS = Paths()  # /etc/redis (uploaded files, on a config volume), /data (data volume), /etc/redis/tls
# The official Alpine images' unprivileged user (redis and valkey alike); uploaded secrets are readable by its group.
UID, GID = 999, 1000
USER = f"{UID}:{GID}"
JOIN_SCRIPT = "cluster-join.sh"
OPERATOR_PASSWORD_FILE = "operator.pass"
EXPORTER_DIR = "/etc/redis-exporter"
EXPORTER_USER = "59000:59000"
# Inside the pod every node is reached on loopback; the bus too.
POD_IP = "127.0.0.1"
MB = 1024 * 1024


def settings(cfg: StackConfig) -> DockerSettings:
    """The stack's docker section (defaults when absent)."""
    return cfg.docker or DockerSettings()


def layout(plan: Plan) -> Plan:
    """The plan as Docker realises it: every node at `announce_host`, node i on port `ports.redis + i`.

    Sentinel j on `ports.sentinel + j`, cluster bus of node i on `bus_port + i`. Same order as the plan, so the
    mapping is stable across deploys as long as the topology does not change.
    """
    cfg = plan.config
    host = settings(cfg).announce_host
    nodes = tuple(dataclasses.replace(n, address=host, port=cfg.ports.redis + i,
                                      bus_port=(cfg.bus_port + i) if n.bus_port else None)
                  for i, n in enumerate(plan.nodes))
    sentinels = tuple(dataclasses.replace(s, address=host, port=cfg.ports.sentinel + j)
                      for j, s in enumerate(plan.sentinels))
    return dataclasses.replace(plan, nodes=nodes, sentinels=sentinels)


def published_ports(plan: Plan) -> list[int]:
    """Client-facing ports (data nodes and Sentinels), the only ones published; bus ports stay inside the pod."""
    return [n.port for n in plan.all_nodes]


def cert_names(cfg: StackConfig, node_name: str) -> tuple[list[str], list[str]]:
    """(DNS names, IPs) a node certificate carries: the announced name, the node name and loopback."""
    dns = [settings(cfg).announce_host, node_name, "localhost"]
    return list(dict.fromkeys(dns)), [POD_IP, "::1"]


def binaries(cfg: StackConfig) -> dict[str, str]:
    """Server, Sentinel and CLI binaries of the engine's image."""
    prefix = "valkey" if cfg.engine == "valkey" else "redis"
    return {"server": f"{prefix}-server", "sentinel": f"{prefix}-sentinel", "cli": f"{prefix}-cli"}


def entrypoint(cfg: StackConfig, node: Node) -> list[str]:
    """The container's process: redis-server on its rendered config, or Sentinel through the core's shared launcher.

    Sentinel rewrites its config (pitfall 3): it runs from `/data/sentinel.conf`, seeded from the uploaded file only
    when absent (a redeploy never overwrites the primary it learned), with the secrets re-included on every start so
    a rotated password reaches it (`render.sentinel_launch`, the same script the sandbox runs).
    """
    bins = binaries(cfg)
    if node.is_data:
        return [bins["server"], PATHS.conf(REDIS_CONF)]
    return ["sh", "-c", sentinel_launch(PATHS, bins["sentinel"])]


def _tls_args(cfg: StackConfig, cert: str, key: str, ca: str) -> str:
    if not cfg.security.tls.enabled:
        return ""
    return f"--tls --cacert {ca} --cert {cert} --key {key} "


def _password_from(file: str, directive: str) -> str:
    # Passwords are letters and digits (credentials.ALPHABET): the quoted value is taken as is.
    return f"sed -n 's/^{directive} \"\\(.*\\)\"$/\\1/p' {file}"


def health_test(cfg: StackConfig, node: Node) -> list[str]:
    """Docker health check: PING over TLS with auth, the password piped from the node's own secret file (never in
    the command line or environment). Data nodes use the `replicator` user (PING is all it may do besides
    replication); Sentinels their own password."""
    cli = binaries(cfg)["cli"]
    tls = _tls_args(cfg, PATHS.tls(TLS_CERT), PATHS.tls(TLS_KEY), PATHS.tls(TLS_CA))
    if node.is_data:
        source, user = _password_from(PATHS.conf(SECRETS_CONF), "masterauth"), "--user replicator "
    else:
        source, user = _password_from(PATHS.conf(SENTINEL_SECRETS_CONF), "requirepass"), ""
    command = (f"{source} | {cli} {tls}-h {POD_IP} -p {node.port} {user}--askpass --no-auth-warning PING "
               "| grep -qx PONG")
    return ["CMD-SHELL", command]


def restart_policy(cfg: StackConfig, node: Node) -> tuple[str, int]:
    """(Docker restart policy, max retries) for a container.

    Data nodes follow `restart` (pitfall 6: the config refuses automatic restarts of primaries without persistence
    unless Sentinel's master-reboot-down-after-period covers them); every data node gets the same policy because any
    replica can become the primary. `always` maps to `unless-stopped` so a deliberate `docker stop` is respected.
    Sentinels hold no data: they always come back.
    """
    if not node.is_data:
        return "unless-stopped", 0
    return {"always": ("unless-stopped", 0), "on-failure": ("on-failure", 5), "never": ("no", 0)}[cfg.restart]


def memory_mb(cfg: StackConfig, node: Node) -> int:
    """Container memory limit in MiB: `memory.node_memory` for data nodes, whose `maxmemory` the config already caps
    below it with copy-on-write headroom (pitfall 8); `docker.sentinel_memory` for Sentinels."""
    if node.is_data:
        return int(parse_size(cfg.memory.node_memory or "0") // MB)
    return int(parse_size(settings(cfg).sentinel_memory) // MB)


def upload_paths(node: Node) -> dict[str, str]:
    """Where each rendered file goes in the container, by file name."""
    names = [REDIS_CONF, SECRETS_CONF, ACL_FILE] if node.is_data else [SENTINEL_CONF, SENTINEL_SECRETS_CONF]
    paths = {name: PATHS.conf(name) for name in names}
    paths.update({name: PATHS.tls(name) for name in (TLS_CERT, TLS_KEY, TLS_CA)})
    return paths


SECRET_FILES = frozenset({SECRETS_CONF, ACL_FILE, SENTINEL_SECRETS_CONF, TLS_KEY, OPERATOR_PASSWORD_FILE})


def join_script(plan: Plan) -> str:
    """The one-shot cluster join, idempotent: creates the cluster from the primaries only when it is not formed,
    then attaches each replica to the primary the plan gives it (skipping replicas already attached).

    The operator password is read by redis-cli's `--askpass` from a secret file on stdin: never in an argument or
    the environment. Addresses are the pod's loopback: the join container runs inside the pod.
    """
    cfg = plan.config
    cli = binaries(cfg)["cli"]
    tls = _tls_args(cfg, PATHS.tls(TLS_CERT), PATHS.tls(TLS_KEY), PATHS.tls(TLS_CA))
    primaries = plan.primaries()
    at = lambda n: f"{POD_IP}:{n.port}"  # noqa: E731
    pairs = " ".join(f"{at(n)}={at(plan.node(n.primary))}" for n in plan.nodes if n.primary)
    total = len(plan.nodes)
    lines = [
        "#!/bin/sh",
        f"# {cfg.name}: forms the Redis Cluster once; a no-op when it is formed. Rendered by redis-infra.",
        "set -eu",
        f"PASSWORD_FILE={PATHS.conf(OPERATOR_PASSWORD_FILE)}",
        f"PRIMARIES={shlex.quote(' '.join(at(n) for n in primaries))}",
        f"REPLICAS={shlex.quote(pairs)}  # replica=primary, as planned",
        f"ALL={shlex.quote(' '.join(at(n) for n in plan.nodes))}",
        f"TOTAL={total}",
        f"cli() {{ {cli} {tls}--user operator --askpass --no-auth-warning \"$@\" < \"$PASSWORD_FILE\"; }}",
        'on() { node=$1; shift; cli -h "${node%:*}" -p "${node#*:}" "$@"; }',
        'field() { on "$1" CLUSTER INFO | tr -d "\\r" | sed -n "s/^$2://p"; }',
        "for address in $ALL; do",
        "  tries=0",
        '  until [ "$(on "$address" PING 2>/dev/null | tr -d "\\r")" = PONG ]; do',
        "    tries=$((tries + 1))",
        '    if [ "$tries" -ge 120 ]; then echo "cluster-join: $address does not answer" >&2; exit 1; fi',
        "    sleep 1",
        "  done",
        "done",
        "first=${PRIMARIES%% *}",
        'if [ "$(field "$first" cluster_state)" = ok ] && [ "$(field "$first" cluster_known_nodes)" = "$TOTAL" ]; then',
        '  echo "cluster-join: cluster already formed ($TOTAL nodes); nothing to do"',
        "  exit 0",
        "fi",
        'if [ "$(field "$first" cluster_known_nodes)" = 1 ]; then',
        "  # shellcheck disable=SC2086",
        "  cli --cluster create $PRIMARIES --cluster-replicas 0 --cluster-yes",
        "fi",
        "for pair in $REPLICAS; do",
        '  replica=${pair%%=*}; primary=${pair#*=}',
        '  if on "$replica" ROLE | head -n 1 | grep -qx slave; then continue; fi',
        '  id=$(on "$primary" CLUSTER MYID | tr -d "\\r")',
        '  cli --cluster add-node "$replica" "$primary" --cluster-slave --cluster-master-id "$id"',
        "done",
        "tries=0",
        'until [ "$(field "$first" cluster_state)" = ok ] && [ "$(field "$first" cluster_known_nodes)" = "$TOTAL" ]; do',
        "  tries=$((tries + 1))",
        '  if [ "$tries" -ge 120 ]; then echo "cluster-join: cluster not ok after 120s" >&2; exit 1; fi',
        "  sleep 1",
        "done",
        'echo "cluster-join: cluster formed ($TOTAL nodes)"',
    ]
    return "\n".join(lines) + "\n"


def exporter_passwords(plan: Plan, monitor_password: str) -> str:
    """The data nodes' exporter's `-redis.password-file`: target URI -> `monitor` password (JSON), every data node.

    `monitor` may run INFO and read-only diagnostics only (least privilege: no keys, no CONFIG). Each node under two
    keys: the URI itself (what v1.67 looks up) and the URI with `monitor@` (what later releases look up when
    `-redis.user` is set), so a bump of the pinned image keeps authenticating."""
    import json

    scheme = "rediss" if plan.config.security.tls.enabled else "redis"
    out = {}
    for n in plan.nodes:
        out[f"{scheme}://{POD_IP}:{n.port}"] = monitor_password
        out[f"{scheme}://monitor@{POD_IP}:{n.port}"] = monitor_password
    return json.dumps(out, indent=2, sort_keys=True) + "\n"


def sentinel_exporter_passwords(plan: Plan, sentinel_password: str) -> str:
    """The Sentinel exporter's password file: every Sentinel's URI -> its `requirepass` (Sentinels have no `monitor`
    user; with no `-redis.user` the exporter sends `AUTH <password>`, i.e. the default user)."""
    import json

    scheme = "rediss" if plan.config.security.tls.enabled else "redis"
    out = {f"{scheme}://{POD_IP}:{s.port}": sentinel_password for s in plan.sentinels}
    return json.dumps(out, indent=2, sort_keys=True) + "\n"


def sentinel_exporter_port(cfg: StackConfig) -> int:
    """The Sentinel exporter listens next to the data nodes' exporter (`docker.exporter_port + 1`, reserved by the
    config's port rules when the topology has Sentinels)."""
    return settings(cfg).exporter_port + 1


def _exporter_tls_args(cfg: StackConfig) -> list[str]:
    if not cfg.security.tls.enabled:
        return []
    return [f"-tls-ca-cert-file={EXPORTER_DIR}/ca.crt", f"-tls-client-cert-file={EXPORTER_DIR}/client.crt",
            f"-tls-client-key-file={EXPORTER_DIR}/client.key",
            f"-tls-server-cert-file={EXPORTER_DIR}/client.crt", f"-tls-server-key-file={EXPORTER_DIR}/client.key"]


def exporter_command(plan: Plan) -> list[str]:
    """redis_exporter flags for the data nodes: first data node by default, any data node via /scrape?target=; TLS
    and auth (`monitor`) to Redis, HTTPS for the metrics; the password comes from the password file (never a flag)."""
    cfg = plan.config
    tls = cfg.security.tls.enabled
    first = plan.nodes[0]
    args = [f"-redis.addr={'rediss' if tls else 'redis'}://{POD_IP}:{first.port}", "-redis.user=monitor",
            f"-redis.password-file={EXPORTER_DIR}/passwords.json",
            f"-web.listen-address=:{settings(cfg).exporter_port}"]
    args += _exporter_tls_args(cfg)
    if cfg.topology == "cluster":
        args.append("-is-cluster")
    return args


def sentinel_exporter_command(plan: Plan) -> list[str]:
    """redis_exporter flags for the Sentinels: first Sentinel by default, any Sentinel via /scrape?target=; no
    `-redis.user`, so it authenticates as Sentinel's default user with the `requirepass` from the password file."""
    cfg = plan.config
    tls = cfg.security.tls.enabled
    first = plan.sentinels[0]
    args = [f"-redis.addr={'rediss' if tls else 'redis'}://{POD_IP}:{first.port}",
            f"-redis.password-file={EXPORTER_DIR}/passwords.json",
            f"-web.listen-address=:{sentinel_exporter_port(cfg)}"]
    return args + _exporter_tls_args(cfg)
