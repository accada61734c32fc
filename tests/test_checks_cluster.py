"""Post-deploy checks on a 3x1 Redis Cluster: healthy passes everything; a replica in its master's zone fails the
cluster layout; the failover drill loses no acknowledged write; unassigned slots fail `cluster` on that node."""
from __future__ import annotations

from typing import Iterator

import pytest

from checks.context import cluster_nodes
from checks.drill import run_drill
from redisinfra.sandbox import Sandbox
from tests.checks_support import SETTINGS, check, checks_until, expected_checks, fails, not_passed, sandbox

pytestmark = pytest.mark.redis

STACK = {"name": "cache", "backend": "docker", "topology": "cluster", "replicas": 1, "zones": ["za", "zb", "zc"],
         "memory": {"node_memory": "128mb"}}


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox(STACK) as started:
        yield started


def test_healthy_cluster_passes_every_check(box: Sandbox) -> None:
    results = check(box.connection)
    assert not_passed(results) == []
    assert {r.check for r in results} == expected_checks(box.connection)
    assert {r.target for r in results if r.check == "cluster"} == {"cluster"} | {e.name for e in box.connection.endpoints}
    assert len([r for r in results if r.check == "roundtrip"]) == 6  # 3 writes via the cluster client + 3 replica reads


def test_replica_in_its_masters_zone_fails_cluster(box: Sandbox) -> None:
    master = next(e for e in box.connection.endpoints if e.name == "cache-s1-0")
    endpoints = [e.model_copy(update={"zone": master.zone}) if e.name == "cache-s1-1" else e
                 for e in box.connection.endpoints]
    results = check(box.connection.model_copy(update={"endpoints": endpoints}))
    assert fails(results) == {("cluster", "cluster"): f"replica cache-s1-1 is in {master.zone}, the same zone as "
                                                      f"its master cache-s1-0"}


def test_configuration_endpoint_only_discovers_every_node(box: Sandbox) -> None:
    """A managed cluster (ElastiCache cluster mode) lists only its configuration endpoint: nodes are discovered."""
    first = box.connection.endpoints[0]
    configuration = first.model_copy(update={"name": "configuration", "role": "configuration", "shard": None,
                                             "zone": None})
    managed = box.connection.model_copy(update={"endpoints": [configuration]})
    results = checks_until(managed, lambda rs: not not_passed(rs), "every check to pass")
    targets = {r.target for r in results}
    assert {f"{e.host}:{e.port}" for e in box.connection.endpoints} | {"configuration", "cluster"} == targets
    assert {r.check for r in results} == expected_checks(box.connection)


def test_failover_drill_loses_no_acknowledged_write(box: Sandbox) -> None:
    outcome = run_drill(box.connection, SETTINGS)
    assert (outcome.old_primary, outcome.new_primary) == ("cache-s0-0", "cache-s0-1")
    assert outcome.time_to_writable is not None
    assert outcome.acknowledged > 0 and outcome.lost == 0
    assert not_passed(outcome.after) == [] and outcome.ok
    with box.client("cache-s0-1") as conn:
        assert conn.info("replication")["role"] == "master"


def test_unassigned_slots_fail_cluster(box: Sandbox) -> None:
    owner = next(e.name for e in box.connection.endpoints if e.shard == 0 and _is_master(box, e.name))
    with box.client(owner, user="operator") as conn:
        conn.execute_command("CLUSTER", "DELSLOTSRANGE", 0, 99)
    results = checks_until(box.connection, lambda rs: "cluster_state fail" in fails(rs).get(("cluster", owner), ""),
                           "the node to report cluster_state fail")
    found = fails(results)
    assert found[("cluster", owner)] == ("cluster_state fail; 16284 of 16384 slots assigned (100 unassigned); "
                                         "16284 of 16384 slots ok")
    assert {check for check, _ in found} <= {"cluster", "roundtrip"}


def _is_master(box: Sandbox, name: str) -> bool:
    with box.client(name) as conn:
        return any("myself" in n["flags"] and "master" in n["flags"] for n in cluster_nodes(conn))

