"""ElastiCache policies: at-rest encryption, snapshots, Multi-AZ failover, minor upgrades.

Replication groups and Serverless caches (which AWS always encrypts at rest and replicates over zones itself).
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

from pulumi_policy import EnforcementLevel, Severity

from . import targets as t
from .framework import Subject, resource_policy
from .values import UNKNOWN, as_list, truthy


def _number(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is UNKNOWN or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_at_rest(subject: Subject) -> Iterator[str]:
    """atRestEncryptionEnabled, and a customer-managed KMS key when required."""
    props = subject.props
    if subject.type == t.SERVERLESS_CACHE:
        # Always encrypted at rest; the key is AWS-owned unless kmsKeyId names a customer-managed one.
        key = props.get("kmsKeyId")
        if subject.config["requireCustomerManagedKey"] and key is not UNKNOWN and key in (None, ""):
            yield "no kmsKeyId: data is encrypted with the AWS-owned key; use a customer-managed KMS key you can audit and revoke"
        return
    if subject.type != t.REPLICATION_GROUP:
        return
    enabled = props.get("atRestEncryptionEnabled")
    if enabled is UNKNOWN:
        return
    if enabled is None or not truthy(enabled):
        yield "atRestEncryptionEnabled is off: snapshots and swap are stored unencrypted"
        return
    if subject.config["requireCustomerManagedKey"] and props.get("kmsKeyId") in (None, ""):
        yield "no kmsKeyId: data is encrypted with the AWS-owned key; use a customer-managed KMS key you can audit and revoke"


AT_REST = resource_policy(
    "redis-encryption-at-rest",
    "ElastiCache encrypts data at rest, with a customer-managed KMS key where required.",
    check_at_rest, severity=Severity.HIGH,
    config={"requireCustomerManagedKey": {"type": "boolean", "default": True,
                                          "description": "Require kmsKeyId (a customer-managed key)."}},
    remediation_steps=("Set at_rest_encryption_enabled=True and kms_key_id to an aws.kms.Key ARN (replaces the group: "
                       "migrate via a snapshot)."),
)


def check_snapshots(subject: Subject) -> Iterator[str]:
    """snapshotRetentionLimit of at least minimumDays."""
    if subject.type not in (t.REPLICATION_GROUP, t.SERVERLESS_CACHE):
        return
    raw = subject.props.get("snapshotRetentionLimit")
    if raw is UNKNOWN:
        return
    days = _number(raw) or 0
    minimum = int(subject.config["minimumDays"])
    if days < minimum:
        yield f"snapshotRetentionLimit is {days} day(s), below the required {minimum}: a bad write or deletion cannot be rolled back"


def remedy_snapshots(subject: Subject) -> Optional[dict[str, Any]]:
    """Raise the retention to the minimum (an in-place change)."""
    if list(check_snapshots(subject)):
        return {"snapshotRetentionLimit": int(subject.config["minimumDays"])}
    return None


SNAPSHOTS = resource_policy(
    "redis-snapshot-retention",
    "ElastiCache keeps automatic snapshots for at least the configured number of days.",
    check_snapshots, remedy=remedy_snapshots, severity=Severity.MEDIUM,
    config={"minimumDays": {"type": "integer", "minimum": 0, "maximum": 35, "default": 7,
                            "description": "Minimum snapshotRetentionLimit in days."}},
    remediation_steps="Set snapshot_retention_limit (days) and a snapshot_window outside peak hours.",
)


def check_failover(subject: Subject) -> Iterator[str]:
    """automaticFailoverEnabled, multiAzEnabled and at least one replica per shard."""
    if subject.type != t.REPLICATION_GROUP:
        return
    props = subject.props
    failover = props.get("automaticFailoverEnabled")
    if failover is not UNKNOWN and not truthy(failover if failover is not None else False):
        yield "automaticFailoverEnabled is off: losing the primary means downtime until someone intervenes"
    multi_az = props.get("multiAzEnabled")
    if multi_az is not UNKNOWN and not truthy(multi_az if multi_az is not None else False):
        yield "multiAzEnabled is off: replicas may share the primary's availability zone"
    clusters, replicas = props.get("numCacheClusters"), props.get("replicasPerNodeGroup")
    if UNKNOWN in (clusters, replicas):
        return
    # Cluster mode may give each shard its own replicaCount instead: the shard with the fewest replicas decides.
    shards = props.get("nodeGroupConfigurations")
    if shards is UNKNOWN:
        return
    counts = [s.get("replicaCount") if isinstance(s, dict) else UNKNOWN for s in as_list(shards)]
    if UNKNOWN in counts:
        return
    per_shard = [n for n in (_number(c) for c in counts) if n is not None]
    if per_shard:
        if min(per_shard) < 1:
            yield "nodeGroupConfigurations: the smallest replicaCount is 0: a shard has no replica to fail over to"
        return
    n_clusters, n_replicas = _number(clusters), _number(replicas)
    if n_replicas is not None:
        if n_replicas < 1:
            yield "replicasPerNodeGroup is 0: no replica to fail over to"
    elif n_clusters is not None and n_clusters < 2:
        yield "numCacheClusters is 1: no replica to fail over to"
    elif n_clusters is None and n_replicas is None:
        yield "neither numCacheClusters nor replicasPerNodeGroup: a single node without a replica"


FAILOVER = resource_policy(
    "redis-multi-az-failover",
    "ElastiCache runs Multi-AZ with automatic failover and at least one replica per shard.",
    check_failover, severity=Severity.HIGH,
    remediation_steps="Set automatic_failover_enabled=True, multi_az_enabled=True and replicas_per_node_group >= 1 "
                      "(or replica_count >= 1 in every node_group_configurations entry, or num_cache_clusters >= 2), "
                      "spread over preferred_cache_cluster_azs.",
)


def check_minor(subject: Subject) -> Iterator[str]:
    """autoMinorVersionUpgrade not turned off."""
    if subject.type == t.REPLICATION_GROUP and subject.props.get("autoMinorVersionUpgrade") is not UNKNOWN:
        value = subject.props.get("autoMinorVersionUpgrade")
        if value is not None and truthy(value) is False:
            yield "autoMinorVersionUpgrade is off: security patches are not applied in the maintenance window"


def remedy_minor(subject: Subject) -> Optional[dict[str, Any]]:
    """Turn automatic minor upgrades back on (in place, applied in the maintenance window)."""
    return {"autoMinorVersionUpgrade": True} if list(check_minor(subject)) else None


MINOR = resource_policy(
    "redis-auto-minor-version-upgrade",
    "ElastiCache applies minor engine upgrades (security fixes) automatically in the maintenance window.",
    check_minor, remedy=remedy_minor, severity=Severity.LOW, level=EnforcementLevel.MANDATORY,
    remediation_steps="Set auto_minor_version_upgrade=True and a maintenance_window.",
)
