"""Round trip: write a key with a TTL through the primary (Sentinel- and Cluster-aware clients), read it back,
read it from every replica too, delete it."""
from __future__ import annotations

import time
import uuid
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

from redisinfra import clients
from redisinfra.connection import Endpoint

from .context import Context, one_line
from .model import Result, failed, passed, skipped

KEY_TTL_SECONDS = 60
KEY_PREFIX = "redis-infra:check"


def _data_kwargs(ctx: Context) -> dict[str, Any]:
    timeout = ctx.settings.timeout
    creds = ctx.connection.credentials
    return {"username": creds.username, "password": creds.password.get_secret_value(), "socket_timeout": timeout,
            "socket_connect_timeout": timeout, "decode_responses": True, "protocol": 2,
            **clients.tls_kwargs(ctx.connection)}


def writer(ctx: Context) -> Any:
    """The client an application would use: Sentinel-aware, Cluster-aware, or the primary endpoint itself."""
    connection = ctx.connection
    timeout = ctx.settings.timeout
    if connection.topology == "sentinel":
        sentinel_auth = connection.credentials.sentinel_password
        sentinel_kwargs = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "decode_responses": True,
                           "password": sentinel_auth.get_secret_value() if sentinel_auth else None,
                           **clients.tls_kwargs(connection)}
        manager = Sentinel([(e.host, e.port) for e in ctx.sentinels], sentinel_kwargs=sentinel_kwargs,
                           **_data_kwargs(ctx))
        client = manager.master_for(connection.sentinel_master, retry=Retry(NoBackoff(), 0))
        client.redis_infra_sentinels = manager.sentinels  # closed with the client (see close())
        return client
    if connection.topology == "cluster":
        starts = connection.by_role("configuration") or ctx.data
        return RedisCluster(startup_nodes=[ClusterNode(e.host, e.port) for e in starts],
                            retry=Retry(NoBackoff(), 1), **_data_kwargs(ctx))
    primary = ctx.primaries.get(0) or (connection.by_role("primary") or [None])[0]
    if primary is None:
        raise redis.ConnectionError("no primary endpoint in the contract")
    return ctx.client(primary)


def close(client: Any) -> None:
    """Close a writer and, for a Sentinel-aware one, its connections to the Sentinels."""
    client.close()
    for sentinel in getattr(client, "redis_infra_sentinels", ()):
        sentinel.close()


def _keys(ctx: Context, client: Any, run: str) -> dict[int, str]:
    """One key per shard (cluster: a hash tag that lands on each current primary)."""
    if ctx.connection.topology != "cluster":
        return {0: f"{KEY_PREFIX}:{run}"}
    wanted = {e.name: shard for shard, e in ctx.primaries.items()}
    keys: dict[int, str] = {}
    for index in range(2000):
        key = f"{KEY_PREFIX}:{{{run}-{index}}}"
        node = client.get_node_from_key(key)
        # The client knows nodes by the address the cluster reports (an IP even where nodes announce names).
        owner = ctx.endpoint_at(node.host, int(node.port))
        shard = wanted.get(owner.name) if owner else None
        if shard is not None and shard not in keys:
            keys[shard] = key
        if len(keys) == len(wanted):
            break
    return keys


def roundtrip(ctx: Context) -> list[Result]:
    """Write / read / delete through the primary, and read from each replica (skipped when its link is down)."""
    run = uuid.uuid4().hex[:12]
    primaries = ctx.primaries
    if not primaries:
        return [failed("roundtrip", "deployment", f"no primary known (source: {ctx.primaries_source})")]
    unreachable = [e.name for e in primaries.values() if e.name in ctx.unreachable]
    client = None
    try:
        client = writer(ctx)
        keys = _keys(ctx, client, run)
    except (redis.RedisError, OSError) as error:
        if client is not None:
            close(client)
        target = "cluster" if ctx.connection.topology == "cluster" else next(iter(primaries.values())).name
        if unreachable:
            return [skipped("roundtrip", target, f"primary {', '.join(unreachable)} unreachable (see reach)")]
        return [failed("roundtrip", target, f"no client: {one_line(error)}")]
    results = []
    try:
        for shard, primary in sorted(primaries.items()):
            key = keys.get(shard)
            if key is None:
                results.append(failed("roundtrip", primary.name, "no key slot maps to this primary"))
                continue
            if primary.name in ctx.unreachable:
                results.append(skipped("roundtrip", primary.name, "unreachable (see reach)"))
                continue
            results += _shard(ctx, client, primary, key, run)
    finally:
        close(client)
    return results


def _shard(ctx: Context, client: Any, primary: Endpoint, key: str, value: str) -> list[Result]:
    started = time.perf_counter()
    try:
        client.set(key, value, ex=KEY_TTL_SECONDS)
        read = client.get(key)
    except (redis.RedisError, OSError) as error:
        return [failed("roundtrip", primary.name, f"write {key} failed: {one_line(error)}")]
    if read != value:
        return [failed("roundtrip", primary.name, f"wrote {key}, read back {read!r}")]
    results = []
    replicas = [e for e in ctx.data if (e.shard or 0) == (primary.shard or 0) and e.name != primary.name]
    replicas += [e for e in ctx.connection.by_role("reader")]
    for replica in replicas:
        results.append(_replica_read(ctx, replica, key, value))
    try:
        deleted = client.delete(key)
        gone = client.exists(key) == 0
    except (redis.RedisError, OSError) as error:
        return [failed("roundtrip", primary.name, f"delete {key} failed: {one_line(error)}")] + results
    elapsed = (time.perf_counter() - started) * 1000
    if not deleted or not gone:
        return [failed("roundtrip", primary.name, f"{key} not deleted")] + results
    return [passed("roundtrip", primary.name,
                   f"set (TTL {KEY_TTL_SECONDS}s) + get + del via {_how(ctx)} in {elapsed:.1f} ms")] + results


def _how(ctx: Context) -> str:
    return {"sentinel": "Sentinel-discovered primary", "cluster": "cluster client"}.get(
        ctx.connection.topology, "primary endpoint")


def _replica_read(ctx: Context, replica: Endpoint, key: str, value: str) -> Result:
    conn = ctx.node(replica.name)
    if conn is None:
        return skipped("roundtrip", replica.name, "unreachable (see reach)")
    own = None
    try:
        link = conn.info("replication").get("master_link_status")
        if replica.role != "reader" and link != "up":
            return skipped("roundtrip", replica.name, f"replication link {link} (see replication)")
        if ctx.connection.topology == "cluster":
            conn = own = ctx.client(replica)
            conn.execute_command("READONLY")  # per connection: this client's single pooled connection keeps it
        deadline = time.monotonic() + ctx.settings.timeout
        started = time.perf_counter()
        while True:
            got = conn.get(key)
            if got == value or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    except (redis.RedisError, OSError) as error:
        return failed("roundtrip", replica.name, f"read {key}: {one_line(error)}")
    finally:
        if own is not None:
            own.close()
    if got != value:
        return failed("roundtrip", replica.name, f"{key} not replicated within {ctx.settings.timeout:g}s (read {got!r})")
    return passed("roundtrip", replica.name, f"read back from replica after {(time.perf_counter() - started) * 1000:.1f} ms")
