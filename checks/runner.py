"""Run every check concurrently: reach first (it opens each node's client), then per-node and deployment checks."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import redis

from redisinfra.connection import Connection, Endpoint

from . import node, topology
from .context import Context, discover_cluster, one_line
from .model import STATUSES, Result, Settings, failed, skipped
from .roundtrip import roundtrip

NodeCheck = Callable[[Context, Endpoint, redis.Redis], Result]

# Order is the order of the report. Each entry: check name, function, roles it applies to, topologies (None = all).
NODE_CHECKS: list[tuple[str, NodeCheck, tuple[str, ...], tuple[str, ...] | None]] = [
    ("tls", node.tls, ("primary", "replica", "sentinel"), None),
    ("auth", node.auth, ("primary", "replica", "sentinel"), None),
    ("commands", node.commands, ("primary", "replica"), None),
    ("memory", node.memory, ("primary", "replica"), None),
    ("persistence", node.persistence, ("primary", "replica"), None),
    ("replication", topology.replication, ("primary", "replica"), None),
    ("sentinel", topology.sentinel, ("sentinel",), ("sentinel",)),
    ("cluster", topology.cluster_node, ("primary", "replica"), ("cluster",)),
    ("version", node.version, ("primary", "replica", "sentinel"), None),
    ("latency", node.latency, ("primary", "replica", "sentinel"), None),
]
CHECK_NAMES = ["reach", "roundtrip"] + [name for name, *_ in NODE_CHECKS] + ["sentinel-agree"]


# Serverless hides its nodes: memory, persistence and replication are the service's, not observable per node.
NOT_SERVERLESS = {"memory", "persistence", "replication"}


def _applies(check: tuple, endpoint: Endpoint, topology_name: str) -> bool:
    name, _fn, roles, topologies = check
    if topology_name == "serverless" and name in NOT_SERVERLESS:
        return False
    return endpoint.role in roles and (topologies is None or topology_name in topologies)


def _node_checks(ctx: Context, endpoint: Endpoint) -> list[Result]:
    results = []
    for entry in NODE_CHECKS:
        name, function = entry[0], entry[1]
        if not _applies(entry, endpoint, ctx.connection.topology):
            continue
        if endpoint.name in ctx.unreachable:
            results.append(skipped(name, endpoint.name, "unreachable (see reach)"))
            continue
        try:
            results.append(function(ctx, endpoint, ctx.nodes[endpoint.name]))
        except (redis.RedisError, OSError) as error:  # a node that stops answering mid-run fails, never hangs
            results.append(failed(name, endpoint.name, one_line(error)))
    return results


def _deployment_checks(ctx: Context) -> list[tuple[str, Callable[[], list[Result]]]]:
    jobs: list[tuple[str, Callable[[], list[Result]]]] = [("roundtrip", lambda: roundtrip(ctx))]
    if ctx.connection.topology == "sentinel":
        jobs.append(("sentinel-agree", lambda: [topology.sentinels_agree(ctx)]))
    if ctx.connection.topology == "cluster":
        jobs.append(("cluster", lambda: [topology.cluster_layout(ctx)]))
    return jobs


def _guard(name: str, job: Callable[[], list[Result]]) -> list[Result]:
    try:
        return job()
    except (redis.RedisError, OSError) as error:
        return [failed(name, "deployment", one_line(error))]


def run_checks(connection: Connection, settings: Settings | None = None) -> list[Result]:
    """Every check against every endpoint of the contract; results in a stable order (check, then node order)."""
    settings = settings or Settings()
    try:
        connection = discover_cluster(connection, settings.timeout)
    except (redis.RedisError, OSError) as error:
        configuration = connection.by_role("configuration")[0]
        return [failed("reach", configuration.name, f"{configuration.host}:{configuration.port}: {one_line(error)}")]
    ctx = Context(connection, settings)
    order = {e.name: i for i, e in enumerate(connection.endpoints)}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(ctx.settings.workers, len(connection.endpoints) + 3))) as pool:
            reached = list(pool.map(lambda e: node.reach(ctx, e), connection.endpoints))
            results = [result for result, _ in reached]
            for endpoint, (result, conn) in zip(connection.endpoints, reached):
                if conn is None:
                    ctx.unreachable[endpoint.name] = result.detail
                else:
                    ctx.nodes[endpoint.name] = conn
            ctx.discover_primaries()
            futures = [pool.submit(_guard, name, job) for name, job in _deployment_checks(ctx)]
            futures += [pool.submit(_node_checks, ctx, e) for e in connection.endpoints]
            for future in futures:
                results += future.result()
    finally:
        ctx.close()
    rank = {name: i for i, name in enumerate(CHECK_NAMES)}
    return sorted(results, key=lambda r: (rank.get(r.check, 99), order.get(r.target, -1)))


def exit_code(results: list[Result]) -> int:
    """0 when nothing failed, else 1 (warnings and skips do not fail a run)."""
    return 1 if any(r.status == "fail" for r in results) else 0


def summary(results: list[Result]) -> dict[str, int]:
    """Counts by status."""
    return {status: sum(1 for r in results if r.status == status) for status in STATUSES}
