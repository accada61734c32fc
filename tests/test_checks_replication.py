"""Post-deploy checks on a primary + 1 replica: healthy passes everything; a replica whose link is down fails
`replication` (on the replica and on its primary) and nothing else."""
from __future__ import annotations

from typing import Iterator

import pytest

from redisinfra.sandbox import Sandbox
from tests.checks_support import check, checks_until, expected_checks, fails, healthy, not_passed, sandbox

pytestmark = pytest.mark.redis

STACK = {"name": "queue", "backend": "ec2", "topology": "replication", "replicas": 1, "persistence": {"mode": "aof"},
         "memory": {"maxmemory": "100mb", "node_memory": "256mb", "policy": "allkeys-lfu"}}


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox(STACK) as started:
        yield started


def test_healthy_replication_passes_every_check(box: Sandbox) -> None:
    results = check(box.connection)
    assert not_passed(results) == []
    assert {r.check for r in results} == expected_checks(box.connection)
    assert {(r.check, r.target) for r in results if r.check == "roundtrip"} == {("roundtrip", "queue-0"),
                                                                              ("roundtrip", "queue-1")}


def test_replica_link_down_fails_replication(box: Sandbox) -> None:
    primary = box.client("queue-0", user="operator")
    # The replica can no longer authenticate to its primary: its link stays down while both nodes answer clients.
    primary.execute_command("ACL", "SETUSER", "replicator", "off")
    primary.execute_command("CLIENT", "KILL", "USER", "replicator")
    try:
        results = checks_until(box.connection, lambda rs: ("replication", "queue-1") in fails(rs), "the link to drop")
    finally:
        primary.execute_command("ACL", "SETUSER", "replicator", "on")
    found = fails(results)
    assert set(found) == {("replication", "queue-0"), ("replication", "queue-1")}
    assert found[("replication", "queue-0")] == "0 of 1 replicas online"
    assert found[("replication", "queue-1")].startswith("master_link_status down")
    assert [r.detail for r in results if (r.check, r.target) == ("roundtrip", "queue-1")] == [
        "replication link down (see replication)"]
    healthy(box.connection)
    primary.close()
