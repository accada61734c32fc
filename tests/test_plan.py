"""Topology plan: nodes, roles, shards, zones, addresses."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redisinfra.plan import build_plan
from redisinfra.stack import parse_config


def test_sentinel_plan() -> None:
    plan = build_plan(parse_config({"backend": "docker", "topology": "sentinel", "zones": ["a", "b", "c"]}))
    assert [(n.name, n.role, n.zone) for n in plan.nodes] == [
        ("redis-0", "primary", "a"), ("redis-1", "replica", "b"), ("redis-2", "replica", "c")]
    assert [n.name for n in plan.sentinels] == ["redis-sentinel-0", "redis-sentinel-1", "redis-sentinel-2"]
    assert {s.zone for s in plan.sentinels} == {"a", "b", "c"}
    assert all(n.primary == "redis-0" for n in plan.nodes[1:]) and all(n.port == 6379 for n in plan.nodes)
    assert all(s.port == 26379 for s in plan.sentinels)


def test_cluster_plan_shards_and_bus() -> None:
    cfg = parse_config({"backend": "docker", "topology": "cluster", "replicas": 2, "cluster": {"shards": 4}})
    plan = build_plan(cfg)
    assert len(plan.primaries()) == 4 and len(plan.nodes) == 12 and not plan.sentinels
    for primary in plan.primaries():
        replicas = plan.replicas_of(primary)
        assert len(replicas) == 2 and {r.shard for r in replicas} == {primary.shard}
    assert {n.bus_port for n in plan.nodes} == {16379}


def test_standalone_and_addresses() -> None:
    plan = build_plan(parse_config({"backend": "kubernetes", "topology": "standalone"}))
    assert [n.role for n in plan.all_nodes] == ["primary"]
    moved = plan.with_addresses({"redis-0": "127.0.0.5"})
    assert moved.nodes[0].address == "127.0.0.5" and not moved.uses_hostnames() and plan.uses_hostnames()
    with pytest.raises(KeyError, match="no address for"):
        build_plan(parse_config({"backend": "docker", "topology": "replication"})).with_addresses({"redis-0": "x"})


def test_mixed_names_and_ips_refused() -> None:
    plan = build_plan(parse_config({"backend": "docker", "topology": "replication", "replicas": 1}))
    with pytest.raises(ValueError, match="mix"):
        plan.with_addresses({"redis-0": "127.0.0.1", "redis-1": "redis-1"}).uses_hostnames()


@settings(max_examples=200, deadline=None)
@given(zones=st.integers(0, 4), shards=st.integers(3, 6), replicas=st.integers(1, 5),
       topology=st.sampled_from(["replication", "sentinel", "cluster"]))
def test_replicas_never_share_their_primary_zone(zones: int, shards: int, replicas: int, topology: str) -> None:
    cfg = parse_config({"backend": "docker", "topology": topology, "replicas": replicas,
                        "zones": [f"z{i}" for i in range(zones)],
                        **({"cluster": {"shards": shards}} if topology == "cluster" else {})})
    plan = build_plan(cfg)
    names = [n.name for n in plan.all_nodes]
    assert len(names) == len(set(names))
    for primary in plan.primaries():
        for replica in plan.replicas_of(primary):
            if zones >= 2:
                assert replica.zone != primary.zone
            elif zones == 0:
                assert replica.zone is None
        # Replicas spread over the other zones as evenly as possible.
        if zones >= 2:
            used = [r.zone for r in plan.replicas_of(primary)]
            assert max(used.count(z) for z in set(used)) - min(used.count(z) for z in set(used)) <= 1 or len(set(used)) == zones - 1
