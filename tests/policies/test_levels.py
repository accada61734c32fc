"""Per-stack config for every policy: the same failing resource is mandatory in prod, as dev.json says in dev,
and silent when disabled."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PACK_DIR, PolicyPack, read_pack_config

from .builders import (
    CONTAINER, EC2, RG, SERVICE, SG, STATEFULSET, DROP, docker_container, ec2_instance, redis_container,
    replication_group, resource, security_group, workload,
)

FAILING = {
    "redis-tls-in-transit": (RG, replication_group(transitEncryptionEnabled=False)),
    "redis-auth-required": (RG, replication_group(authToken=DROP)),
    "redis-secrets-not-exposed": (CONTAINER, docker_container(envs=["REDIS_PASSWORD=hunter2hunter2"])),
    "redis-maxmemory": (CONTAINER, docker_container(memory=DROP)),
    "redis-encryption-at-rest": (RG, replication_group(atRestEncryptionEnabled=False)),
    "redis-snapshot-retention": (RG, replication_group(snapshotRetentionLimit=0)),
    "redis-multi-az-failover": (RG, replication_group(multiAzEnabled=False)),
    "redis-auto-minor-version-upgrade": (RG, replication_group(autoMinorVersionUpgrade=False)),
    "redis-no-public-ingress": (SG, security_group({"protocol": "tcp", "fromPort": 6379, "toPort": 6379,
                                                    "cidrBlocks": ["0.0.0.0/0"]})),
    "redis-docker-loopback-only": (CONTAINER, docker_container(ports=[{"internal": 6379, "external": 6379}])),
    "redis-kubernetes-no-loadbalancer": (SERVICE, {"metadata": {"name": "redis"},
                                                   "spec": {"type": "LoadBalancer", "ports": [{"port": 6379}]}}),
    "redis-kubernetes-pod-security": (STATEFULSET, workload(redis_container(securityContext={}))),
    "redis-ec2-imdsv2": (EC2, ec2_instance(metadataOptions=DROP)),
    "redis-minimum-engine-version": (RG, replication_group(engineVersion="6.2")),
}


def _levels(pack: PolicyPack, policy: str) -> list[str]:
    type_, props = FAILING[policy]
    return [d.level for d in pack.analyze(resource(type_, props)) if d.policy == policy]


def test_every_resource_policy_has_a_failing_case(pack: PolicyPack) -> None:
    resource_policies = {p.name for p in pack.info() if p.kind == "resource"}
    assert resource_policies == set(FAILING)


@pytest.mark.parametrize("policy", sorted(FAILING))
def test_levels_follow_the_stack_config(pack: PolicyPack, policy: str) -> None:
    assert set(_levels(pack, policy)) == {"mandatory"}, "pack default"
    prod = pack.configure(read_pack_config(PACK_DIR / "config" / "prod.json"))
    assert set(_levels(pack, policy)) == {prod[policy][0]} == {"mandatory"}
    dev = pack.configure(read_pack_config(PACK_DIR / "config" / "dev.json"))
    assert set(_levels(pack, policy)) == {dev[policy][0]}
    pack.configure({policy: "advisory"})
    assert set(_levels(pack, policy)) == {"advisory"}
    pack.configure({policy: "disabled"})
    assert _levels(pack, policy) == []


def test_dev_is_advisory_only_where_sensible(pack: PolicyPack) -> None:
    """Security basics stay mandatory in dev; durability and hardening extras are advisory."""
    dev = {name: level for name, (level, _) in pack.configure(read_pack_config(PACK_DIR / "config" / "dev.json")).items()}
    for policy in ("redis-tls-in-transit", "redis-auth-required", "redis-secrets-not-exposed", "redis-maxmemory",
                   "redis-no-public-ingress", "redis-docker-loopback-only"):
        assert dev[policy] == "mandatory", policy
    for policy in ("redis-snapshot-retention", "redis-multi-az-failover", "redis-encryption-at-rest"):
        assert dev[policy] == "advisory", policy
