"""Checks of how the nodes fit together: replication roles and links, Sentinel agreement, cluster slots and layout."""
from __future__ import annotations

import redis

from redisinfra.connection import Endpoint

from .context import Context, cluster_nodes, one_line
from .model import Result, failed, passed, skipped, verdict

CLUSTER_SLOTS = 16384


def _name(ctx: Context, host: object, port: object) -> str:
    """A node's contract name when its address is known, else host:port."""
    try:
        known = ctx.endpoint_at(str(host), int(port))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        known = None
    return known.name if known else f"{host}:{port}"


# -- replication ---------------------------------------------------------------------------------------------

def replication(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """Expected role; a primary has its replicas online with small lag; a replica's link to the primary is up."""
    info = conn.info("replication")
    primary = ctx.primary_of(endpoint)
    if primary is None:
        return failed("replication", endpoint.name, f"no primary known for shard {endpoint.shard or 0} "
                                                    f"(source: {ctx.primaries_source})")
    if primary.name == endpoint.name:
        return _as_primary(ctx, endpoint, info)
    return _as_replica(ctx, endpoint, primary, info)


def _as_primary(ctx: Context, endpoint: Endpoint, info: dict) -> Result:
    wanted = ctx.connection.expected.replicas_per_shard
    if info.get("role") != "master":
        return failed("replication", endpoint.name,
                      f"role {info.get('role')}, expected primary (named by the {ctx.primaries_source})")
    replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    online = [r for r in replicas if r.get("state") == "online"]
    problems = []
    if len(online) != wanted:
        states = ", ".join(f"{_name(ctx, r.get('ip'), r.get('port'))} {r.get('state')}"
                           for r in replicas if r.get("state") != "online")
        problems.append(f"{len(online)} of {wanted} replicas online{f' ({states})' if states else ''}")
    lagging = [f"{_name(ctx, r.get('ip'), r.get('port'))} lag {r.get('lag')}s" for r in online
               if int(r.get("lag", 0)) > ctx.settings.max_lag_seconds]
    if lagging:
        problems.append(f"lag over {ctx.settings.max_lag_seconds}s: {', '.join(lagging)}")
    worst = max((int(r.get("lag", 0)) for r in online), default=0)
    return verdict("replication", endpoint.name, problems, f"primary, {len(online)} replicas online, lag <= {worst}s")


def _as_replica(ctx: Context, endpoint: Endpoint, primary: Endpoint, info: dict) -> Result:
    if info.get("role") != "slave":
        return failed("replication", endpoint.name, f"role {info.get('role')}, expected replica of {primary.name} "
                                                    f"(named by the {ctx.primaries_source})")
    problems = []
    following = f"{info.get('master_host')}:{info.get('master_port')}"
    if ctx.endpoint_at(str(info.get("master_host")), int(info.get("master_port") or 0)) != primary:
        problems.append(f"follows {following}, expected {primary.name} ({primary.host}:{primary.port})")
    link = info.get("master_link_status")
    if link != "up":
        down = info.get("master_link_down_since_seconds")
        problems.append(f"master_link_status {link}{f' for {down}s' if down not in (None, -1) else ''}")
    elif int(info.get("master_last_io_seconds_ago", 0)) > ctx.settings.max_lag_seconds:
        problems.append(f"no data from the primary for {info.get('master_last_io_seconds_ago')}s "
                        f"(over {ctx.settings.max_lag_seconds}s)")
    if int(info.get("master_sync_in_progress", 0)):
        problems.append("full sync in progress")
    return verdict("replication", endpoint.name, problems, f"replica of {primary.name}, link up")


# -- Sentinel ------------------------------------------------------------------------------------------------

def sentinel(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """One Sentinel: sees the other Sentinels and all replicas, CKQUORUM OK, primary neither SDOWN nor ODOWN."""
    name = ctx.connection.sentinel_master
    expected = ctx.connection.expected
    try:
        master = conn.sentinel_master(name)
    except redis.ResponseError as error:
        return failed("sentinel", endpoint.name, f"does not monitor {name!r}: {one_line(str(error))}")
    problems = []
    # redis-py turns the flags into is_* booleans.
    marks = [mark for mark, key in (("SDOWN", "is_sdown"), ("ODOWN", "is_odown")) if master.get(key)]
    if marks:
        problems.append(f"primary {master.get('ip')}:{master.get('port')} is {'+'.join(marks)}")
    others = conn.sentinel_sentinels(name)
    up = [s for s in others if not (s.get("is_sdown") or s.get("is_odown") or s.get("is_disconnected"))]
    if expected.sentinels and len(up) != expected.sentinels - 1:
        gone = [_name(ctx, s.get("ip"), s.get("port")) for s in others if s not in up]
        problems.append(f"sees {len(up)} of {expected.sentinels - 1} other Sentinels up"
                        + (f" (down: {', '.join(gone)})" if gone else ""))
    replicas = conn.sentinel_slaves(name)
    good = [r for r in replicas if not (r.get("is_sdown") or r.get("is_disconnected"))]
    if len(good) != expected.replicas_per_shard:
        problems.append(f"sees {len(good)} of {expected.replicas_per_shard} replicas up")
    try:
        quorum = str(conn.execute_command("SENTINEL", "CKQUORUM", name))
    except redis.ResponseError as error:
        quorum = str(error)
    if not quorum.startswith("OK"):
        problems.append(f"CKQUORUM {quorum}")
    if expected.quorum is not None and int(master.get("quorum", 0)) != expected.quorum:
        problems.append(f"quorum {master.get('quorum')}, expected {expected.quorum}")
    return verdict("sentinel", endpoint.name, problems,
                   f"primary {master.get('ip')}:{master.get('port')}, {len(up)} other Sentinels, "
                   f"{len(good)} replicas, CKQUORUM OK")


def sentinels_agree(ctx: Context) -> Result:
    """All reachable Sentinels name the same primary, and it is a node of the contract."""
    answers: dict[str, list[str]] = {}
    for name, answer in ctx.sentinel_answers().items():
        if isinstance(answer, tuple):
            key = f"{answer[0]}:{answer[1]}"
        else:
            key = "none" if answer is None else f"error {one_line(answer)[:40]}"
        answers.setdefault(key, []).append(name)
    if not answers:
        return skipped("sentinel-agree", "sentinels", "no Sentinel reachable (see reach)")
    if len(answers) > 1:
        listing = "; ".join(f"{a} ({', '.join(names)})" for a, names in sorted(answers.items(), key=lambda kv: (-len(kv[1]), kv[0])))
        return failed("sentinel-agree", "sentinels", f"Sentinels disagree on the primary: {listing}")
    address = next(iter(answers))
    host, _, port = address.rpartition(":")
    known = ctx.endpoint_at(host, int(port)) if port.isdigit() else None
    if known is None:
        return failed("sentinel-agree", "sentinels", f"Sentinels name {address}, which is no data node of the contract")
    return passed("sentinel-agree", "sentinels", f"{len(answers[address])} Sentinels name {known.name} ({address})")


# -- Cluster -------------------------------------------------------------------------------------------------

def cluster_node(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """One cluster node: cluster_state ok, all 16384 slots assigned and ok, no failing peers."""
    raw = conn.execute_command("CLUSTER", "INFO")
    info = dict(line.split(":", 1) for line in str(raw).split() if ":" in line)
    problems = []
    if info.get("cluster_state") != "ok":
        problems.append(f"cluster_state {info.get('cluster_state')}")
    for key in ("cluster_slots_assigned", "cluster_slots_ok"):
        if int(info.get(key, 0)) != CLUSTER_SLOTS:
            what = key.removeprefix("cluster_slots_")
            problems.append(f"{info.get(key)} of {CLUSTER_SLOTS} slots {what}"
                            f"{f' ({CLUSTER_SLOTS - int(info.get(key, 0))} unassigned)' if what == 'assigned' else ''}")
    for key in ("cluster_slots_pfail", "cluster_slots_fail"):
        if int(info.get(key, 0)):
            problems.append(f"{key} {info.get(key)}")
    return verdict("cluster", endpoint.name, problems,
                   f"cluster_state ok, {CLUSTER_SLOTS} slots ok, {info.get('cluster_known_nodes')} nodes known")


def cluster_layout(ctx: Context) -> Result:
    """Masters and replicas per master as expected; replicas in another zone than their master when zones are known.

    Each node's own `myself` line is authoritative for its role and master (gossip may lag a second behind a
    CLUSTER REPLICATE), so the layout is assembled from every reachable node's view of itself.
    """
    expected = ctx.connection.expected
    selves: dict[str, tuple[Endpoint, dict]] = {}  # node id -> (endpoint, its own line)
    strangers: set[str] = set()
    for endpoint in ctx.data:
        conn = ctx.node(endpoint.name)
        if conn is None:
            continue
        try:
            view = cluster_nodes(conn)
        except redis.RedisError:
            continue
        for entry in view:
            if "myself" in entry["flags"]:
                selves[entry["id"]] = (endpoint, entry)
            elif ctx.endpoint_at(entry["host"], entry["port"]) is None and "noaddr" not in entry["flags"]:
                strangers.add(f"{entry['host']}:{entry['port']}")
    if not selves:
        return skipped("cluster", "cluster", "no data node reachable (see reach)")
    masters = {i: e for i, (e, line) in selves.items() if "master" in line["flags"] and line["slots"]}
    problems = []
    if len(masters) != expected.shards:
        problems.append(f"{len(masters)} masters with slots, expected {expected.shards}")
    for master_id, master in masters.items():
        replicas = [e for e, line in selves.values() if line["master"] == master_id]
        if len(replicas) != expected.replicas_per_shard:
            problems.append(f"master {master.name} has {len(replicas)} replicas, expected {expected.replicas_per_shard}")
        for replica in replicas:
            if master.zone and replica.zone and master.zone == replica.zone:
                problems.append(f"replica {replica.name} is in {replica.zone}, the same zone as its master {master.name}")
    if strangers:
        problems.append(f"nodes not in the contract: {', '.join(sorted(strangers))}")
    zones = "zones distinct" if all(e.zone for e in ctx.data) else "zones unknown"
    return verdict("cluster", "cluster", problems,
                   f"{len(masters)} masters x {expected.replicas_per_shard} replicas, {zones}")
