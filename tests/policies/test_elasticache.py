"""ElastiCache policies: at-rest encryption + CMK, snapshot retention, Multi-AZ failover, minor upgrades, version."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PolicyPack

from .builders import RG, DROP, UNKNOWN, replication_group, resource
from .conftest import Judge, messages


def test_at_rest(judge: Judge) -> None:
    policy = "redis-encryption-at-rest"
    assert judge(RG, replication_group(), policy) == []
    assert "atRestEncryptionEnabled is off" in messages(judge(RG, replication_group(atRestEncryptionEnabled=False), policy))
    assert "is off" in messages(judge(RG, replication_group(atRestEncryptionEnabled=DROP), policy))
    assert "customer-managed KMS key" in messages(judge(RG, replication_group(kmsKeyId=DROP), policy))


def test_at_rest_customer_key_is_stack_config(pack: PolicyPack) -> None:
    pack.configure({"redis-encryption-at-rest": {"requireCustomerManagedKey": False}})
    found = pack.analyze(resource(RG, replication_group(kmsKeyId=DROP)))
    assert not [d for d in found if d.policy == "redis-encryption-at-rest"]


def test_snapshots(judge: Judge) -> None:
    policy = "redis-snapshot-retention"
    assert judge(RG, replication_group(snapshotRetentionLimit=35), policy) == []
    assert "0 day(s)" in messages(judge(RG, replication_group(snapshotRetentionLimit=DROP), policy))


@pytest.mark.parametrize("overrides, needle", [
    ({"automaticFailoverEnabled": False}, "automaticFailoverEnabled is off"),
    ({"multiAzEnabled": DROP}, "multiAzEnabled is off"),
    ({"replicasPerNodeGroup": 0}, "replicasPerNodeGroup is 0"),
    ({"replicasPerNodeGroup": DROP, "numNodeGroups": DROP, "numCacheClusters": 1}, "numCacheClusters is 1"),
])
def test_failover_fails(judge: Judge, overrides: dict, needle: str) -> None:
    assert needle in messages(judge(RG, replication_group(**overrides), "redis-multi-az-failover"))


def test_failover_passes(judge: Judge) -> None:
    assert judge(RG, replication_group(), "redis-multi-az-failover") == []
    non_cluster = replication_group(replicasPerNodeGroup=DROP, numNodeGroups=DROP, numCacheClusters=3)
    assert judge(RG, non_cluster, "redis-multi-az-failover") == []


def test_minor_upgrades(judge: Judge) -> None:
    policy = "redis-auto-minor-version-upgrade"
    assert judge(RG, replication_group(), policy) == []
    assert judge(RG, replication_group(autoMinorVersionUpgrade=DROP), policy) == []  # provider default: on
    assert "autoMinorVersionUpgrade is off" in messages(judge(RG, replication_group(autoMinorVersionUpgrade=False), policy))


def test_minimum_version(judge: Judge, pack: PolicyPack) -> None:
    policy = "redis-minimum-engine-version"
    assert judge(RG, replication_group(engineVersion="7.1"), policy) == []
    assert judge(RG, replication_group(engine="valkey", engineVersion="8.0"), policy) == []
    assert "redis 6.2 is older than the minimum 7.0" in messages(judge(RG, replication_group(engineVersion="6.2"), policy))
    assert "valkey 7.2 is older than the minimum 8.0" not in messages(judge(RG, replication_group(
        engine="valkey", engineVersion="7.2"), policy))
    pack.configure({policy: {"minimumValkeyVersion": "8.0"}})
    found = [d for d in pack.analyze(resource(RG, replication_group(engine="valkey", engineVersion="7.2")))
             if d.policy == policy]
    assert "valkey 7.2 is older than the minimum 8.0" in messages(found)


def test_unknown_values_are_no_verdict(judge: Judge) -> None:
    """Values computed from other resources are unknown during preview: no crash, no violation."""
    unknown = replication_group(transitEncryptionEnabled=UNKNOWN, atRestEncryptionEnabled=UNKNOWN,
                                snapshotRetentionLimit=UNKNOWN, automaticFailoverEnabled=UNKNOWN,
                                multiAzEnabled=UNKNOWN, replicasPerNodeGroup=UNKNOWN, autoMinorVersionUpgrade=UNKNOWN,
                                parameterGroupName=UNKNOWN, engineVersion=UNKNOWN, authToken=UNKNOWN)
    assert judge(RG, unknown) == []
