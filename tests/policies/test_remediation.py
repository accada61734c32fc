"""Remediations (level `remediate`): the engine calls Remediate, then Analyze on the rewritten inputs."""
from __future__ import annotations

from redisinfra.analyzer import PolicyPack, to_struct

from .builders import CONTAINER, EC2, RG, DROP, PASSWORD, docker_container, ec2_instance, replication_group, resource


def _remediate_then_analyze(pack: PolicyPack, type_: str, props: dict, policy: str) -> tuple[dict, list]:
    pack.configure({policy: "remediate"})
    changes = pack.remediate(resource(type_, props))
    assert [name for name, _ in changes] == [policy]
    fixed = changes[-1][1]
    return fixed, [d for d in pack.analyze(resource(type_, fixed)) if d.policy == policy]


def test_transit_encryption_is_turned_on(pack: PolicyPack) -> None:
    fixed, left = _remediate_then_analyze(pack, RG, replication_group(transitEncryptionEnabled=False,
                                                                      transitEncryptionMode=DROP),
                                          "redis-tls-in-transit")
    assert fixed["transitEncryptionEnabled"] is True and fixed["transitEncryptionMode"] == "required"
    assert left == []


def test_transit_encryption_keeps_a_deliberate_preferred_mode(pack: PolicyPack) -> None:
    """AWS's two-step migration ('preferred', then 'required'): the remediation never skips the first step."""
    fixed, left = _remediate_then_analyze(pack, RG, replication_group(transitEncryptionEnabled=False,
                                                                      transitEncryptionMode="preferred"),
                                          "redis-tls-in-transit")
    assert fixed["transitEncryptionEnabled"] is True and fixed["transitEncryptionMode"] == "preferred"
    assert "'preferred'" in " ".join(d.detail for d in left), "still reported: the second step is the owner's"
    pack.configure({"redis-tls-in-transit": "remediate"})
    assert pack.remediate(resource(RG, replication_group(transitEncryptionMode="preferred"))) == []
    assert pack.remediate(resource(RG, replication_group(transitEncryptionMode="Preferred"))) == []


def test_docker_publish_all_ports_is_turned_off(pack: PolicyPack) -> None:
    fixed, left = _remediate_then_analyze(pack, CONTAINER, docker_container(publishAllPorts=True),
                                          "redis-docker-loopback-only")
    assert fixed["publishAllPorts"] is False and fixed["ports"][0]["ip"] == "127.0.0.1" and left == []


def test_remediation_keeps_other_secrets_secret(pack: PolicyPack) -> None:
    fixed, _ = _remediate_then_analyze(pack, RG, replication_group(transitEncryptionEnabled=False),
                                       "redis-tls-in-transit")
    assert fixed["authToken"] != PASSWORD and fixed["authToken"]["value"] == PASSWORD  # still wrapped as a secret


def test_minor_upgrades_snapshots_loopback_imdsv2(pack: PolicyPack) -> None:
    fixed, left = _remediate_then_analyze(pack, RG, replication_group(autoMinorVersionUpgrade=False),
                                          "redis-auto-minor-version-upgrade")
    assert fixed["autoMinorVersionUpgrade"] is True and left == []
    fixed, left = _remediate_then_analyze(pack, RG, replication_group(snapshotRetentionLimit=1),
                                          "redis-snapshot-retention")
    assert fixed["snapshotRetentionLimit"] == 7 and left == []
    fixed, left = _remediate_then_analyze(pack, CONTAINER, docker_container(ports=[{"internal": 6379, "external": 6379}]),
                                          "redis-docker-loopback-only")
    assert fixed["ports"][0]["ip"] == "127.0.0.1" and left == []
    fixed, left = _remediate_then_analyze(pack, EC2, ec2_instance(metadataOptions=DROP), "redis-ec2-imdsv2")
    assert fixed["metadataOptions"]["httpTokens"] == "required" and left == []


def test_nothing_to_remediate(pack: PolicyPack) -> None:
    pack.configure({"redis-tls-in-transit": "remediate"})
    assert pack.remediate(resource(RG, replication_group())) == []
    assert to_struct({"a": 1})["a"] == 1
