"""ElastiCache policies: at-rest encryption + CMK, snapshot retention, Multi-AZ failover, minor upgrades, version."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PolicyPack

from .builders import CACHE_CLUSTER, RG, SERVERLESS, DROP, UNKNOWN, replication_group, resource, serverless_cache
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


def test_serverless(judge: Judge, pack: PolicyPack) -> None:
    """ElastiCache Serverless: customer-managed key, snapshot retention and engine version are judged."""
    assert judge(SERVERLESS, serverless_cache()) == []
    assert judge(SERVERLESS, serverless_cache(engine="redis", majorEngineVersion="7")) == []
    assert judge(SERVERLESS, serverless_cache(majorEngineVersion="7")) == [], "valkey 7 is 7.2: a major is enough"
    found = judge(SERVERLESS, serverless_cache(kmsKeyId=DROP), "redis-encryption-at-rest")
    assert "customer-managed KMS key" in messages(found)
    assert "0 day(s)" in messages(judge(SERVERLESS, serverless_cache(snapshotRetentionLimit=DROP), "redis-snapshot-retention"))
    assert "1 day(s)" in messages(judge(SERVERLESS, serverless_cache(snapshotRetentionLimit=1), "redis-snapshot-retention"))
    old = judge(SERVERLESS, serverless_cache(engine="redis", majorEngineVersion="6"), "redis-minimum-engine-version")
    assert "redis 6 is older than the minimum 7.0" in messages(old)
    pack.configure({"redis-encryption-at-rest": {"requireCustomerManagedKey": False},
                    "redis-snapshot-retention": {"minimumDays": 1}})
    assert judge(SERVERLESS, serverless_cache(kmsKeyId=DROP, snapshotRetentionLimit=1)) == []


def test_serverless_unknowns_are_no_verdict(judge: Judge) -> None:
    unknown = serverless_cache(kmsKeyId=UNKNOWN, snapshotRetentionLimit=UNKNOWN, userGroupId=UNKNOWN,
                               majorEngineVersion=UNKNOWN, engine=UNKNOWN)
    assert judge(SERVERLESS, unknown) == []


def test_bare_cache_cluster_node_version(judge: Judge) -> None:
    policy = "redis-minimum-engine-version"
    node = {"clusterId": "cache-0", "engine": "redis", "engineVersion": "6.2", "numCacheNodes": 1}
    assert "redis 6.2 is older" in messages(judge(CACHE_CLUSTER, node, policy))
    assert judge(CACHE_CLUSTER, dict(node, engineVersion="7.1"), policy) == []
    assert judge(CACHE_CLUSTER, dict(node, engine="memcached", engineVersion="1.6.22"), policy) == []


@pytest.mark.parametrize("counts, needle", [([2, 0, 1], "replicaCount is 0"), ([0], "replicaCount is 0")])
def test_failover_node_group_replica_counts_fail(judge: Judge, counts: list, needle: str) -> None:
    groups = [{"nodeGroupId": f"000{i}", "replicaCount": n} for i, n in enumerate(counts, 1)]
    props = replication_group(replicasPerNodeGroup=DROP, nodeGroupConfigurations=groups)
    assert needle in messages(judge(RG, props, "redis-multi-az-failover"))


def test_failover_node_group_replica_counts_pass(judge: Judge) -> None:
    """Cluster mode with per-shard replicaCount instead of replicasPerNodeGroup: the smallest count decides."""
    policy = "redis-multi-az-failover"
    groups = [{"nodeGroupId": f"000{i}", "replicaCount": 2} for i in (1, 2, 3)]
    assert judge(RG, replication_group(replicasPerNodeGroup=DROP, nodeGroupConfigurations=groups), policy) == []
    unknown = groups[:2] + [{"nodeGroupId": "0003", "replicaCount": UNKNOWN}]
    assert judge(RG, replication_group(replicasPerNodeGroup=DROP, nodeGroupConfigurations=unknown), policy) == []
    with_zero_unknown = [{"nodeGroupId": "0001", "replicaCount": 0}, {"nodeGroupId": "0002", "replicaCount": UNKNOWN}]
    assert judge(RG, replication_group(replicasPerNodeGroup=DROP, nodeGroupConfigurations=with_zero_unknown), policy) == []
    assert judge(RG, replication_group(replicasPerNodeGroup=DROP, nodeGroupConfigurations=UNKNOWN), policy) == []
