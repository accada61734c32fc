"""Post-deploy checks on primary + 2 replicas + 3 Sentinels: healthy passes everything; the failover drill loses no
acknowledged write; Sentinels disagreeing fails `sentinel-agree`; two of three Sentinels stopped fails CKQUORUM."""
from __future__ import annotations

from typing import Iterator

import pytest

from checks.drill import run_drill
from redisinfra.sandbox import Sandbox
from tests.checks_support import (FAST_SENTINEL, SETTINGS, check, checks_until, expected_checks, fails, not_passed,
                                  sandbox, unused_address)

pytestmark = pytest.mark.redis

STACK = {"name": "ha", "backend": "docker", "topology": "sentinel", "zones": ["a", "b", "c"], "sentinel": FAST_SENTINEL,
         "memory": {"node_memory": "128mb"}}
SENTINELS = ["ha-sentinel-0", "ha-sentinel-1", "ha-sentinel-2"]


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox(STACK) as started:
        yield started


def test_healthy_sentinel_passes_every_check(box: Sandbox) -> None:
    results = check(box.connection)
    assert not_passed(results) == []
    assert {r.check for r in results} == expected_checks(box.connection)
    assert {r.target for r in results if r.check == "sentinel"} == set(SENTINELS)


def test_failover_drill_loses_no_acknowledged_write(box: Sandbox) -> None:
    before = box.current_primary().name
    outcome = run_drill(box.connection, SETTINGS)
    assert outcome.old_primary == before
    assert outcome.new_primary not in ("", before)
    assert box.current_primary().name == outcome.new_primary
    assert outcome.time_to_writable is not None
    assert outcome.acknowledged > 0 and outcome.lost == 0
    assert not_passed(outcome.after) == [] and outcome.ok


def test_sentinels_disagreeing_fail_sentinel_agree(box: Sandbox) -> None:
    primary = box.current_primary()
    stray = box.client(SENTINELS[2])
    name = box.connection.sentinel_master
    # This Sentinel now watches another "primary": exactly the silent split brain of differing `sentinel monitor`.
    stray.execute_command("SENTINEL", "REMOVE", name)
    stray.execute_command("SENTINEL", "MONITOR", name, unused_address(box.connection), 6379, 2)
    # The others forget it, so their hello messages (a newer config epoch) no longer pull it back into line.
    for peer in SENTINELS[:2]:
        with box.client(peer) as conn:
            conn.execute_command("SENTINEL", "RESET", name)
    results = check(box.connection)
    found = fails(results)
    assert found[("sentinel-agree", "sentinels")] == (
        f"Sentinels disagree on the primary: {primary.address}:{primary.port} ({SENTINELS[0]}, {SENTINELS[1]}); "
        f"{unused_address(box.connection)}:6379 ({SENTINELS[2]})")
    assert {check for check, _ in found} <= {"sentinel-agree", "sentinel"}
    # The stray one watches nothing real: no peers, no replicas, no quorum.
    assert "sees 0 of 2 other Sentinels up" in found[("sentinel", SENTINELS[2])]
    assert "sees 0 of 2 replicas up" in found[("sentinel", SENTINELS[2])]


def test_two_of_three_sentinels_stopped_fail_quorum(box: Sandbox) -> None:
    for name in SENTINELS[1:]:
        box.stop(name)
    # The survivor marks its peers down after down-after-milliseconds (1 s here).
    results = checks_until(box.connection, lambda rs: "NOQUORUM" in fails(rs).get(("sentinel", SENTINELS[0]), ""),
                           "the quorum loss")
    found = fails(results)
    assert set(found) == {("sentinel", SENTINELS[0]), ("reach", SENTINELS[1]), ("reach", SENTINELS[2])}
    detail = found[("sentinel", SENTINELS[0])]
    assert "sees 0 of 2 other Sentinels up" in detail
    assert "CKQUORUM NOQUORUM 1 usable Sentinels" in detail
