"""Config section `redis:elasticache` (ElastiCache backend) and its cross-field rules.

Secure defaults: transit encryption `required`, at-rest encryption with a customer-managed KMS key created for the
stack, a security group that admits only what is listed, snapshots kept 7 days with a final snapshot on delete,
slow-log and engine-log in their own log groups, alarms per member node sent to an SNS topic.
The shared config maps here as: `security.auth.mode: password` = AUTH token, `acl` = RBAC user group (default user
off); `security.tls.enabled` = transit encryption; `persistence.mode: rdb` = automatic snapshots.
"""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, field_validator, model_validator

from .base import RuleError, Strict

if TYPE_CHECKING:  # the stack config imports this module; only type checkers need the reverse import
    from ..config import StackConfig

_WINDOW_DAY = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
_MAINTENANCE = re.compile(rf"^{_WINDOW_DAY}-{_WINDOW_DAY}$")
_SNAPSHOT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
# Parameters this project derives from the shared config; `parameters` may not override them.
MANAGED_PARAMETERS = frozenset({"maxmemory-policy", "cluster-enabled", "reserved-memory-percent"})


class Alarms(Strict):
    """CloudWatch alarms, one set per member node (alarms on the replication group id never fire)."""

    enabled: bool = Field(True, description="Create the alarms.")
    cpu_percent: float = Field(75, gt=0, le=100, description="Host `CPUUtilization` above this (average over 5 minutes).")
    engine_cpu_percent: float = Field(
        85, gt=0, le=100, description="`EngineCPUUtilization` (the single Redis thread) above this.")
    memory_percent: float = Field(
        85, gt=0, le=100, description="`DatabaseMemoryUsagePercentage` (of maxmemory) above this.")
    evictions: int = Field(
        0, ge=0, description="`Evictions` per 5 minutes above this (0: any eviction alarms; raise it for caches).")
    replication_lag_seconds: float = Field(
        30, gt=0, description="`ReplicationLag` of a replica above this (a primary reports none: treated as OK).")
    connections: int = Field(
        5000, ge=1, description="`CurrConnections` above this (connection leaks, client storms).")
    evaluation_periods: int = Field(3, ge=1, le=100, description="Consecutive 5-minute periods before an alarm fires.")


class Serverless(Strict):
    """ElastiCache Serverless limits (topology `serverless`)."""

    max_data_storage_gb: Optional[int] = Field(
        None, ge=1, le=5000, description="Upper limit of stored data in GB (none: no limit beyond AWS's).")
    max_ecpu_per_second: Optional[int] = Field(
        None, ge=1000, le=15000000, description="Upper limit of ElastiCache Processing Units per second.")
    daily_snapshot_time: str = Field("03:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                     description="UTC time of the daily snapshot (`HH:MM`).")


class ElastiCacheSettings(Strict):
    """ElastiCache backend settings."""

    node_type: Optional[str] = Field(
        None, description="Cache node type, e.g. `cache.r7g.large` (default for node-based topologies). "
                          "Data tiering needs a `cache.r6gd.*` type. Not used by `serverless`.")
    transit_encryption_mode: Literal["required", "preferred"] = Field(
        "required", description="`required`: TLS only. `preferred` accepts plaintext too: only as the first of two "
                                "applies when turning TLS on for an existing cluster (then back to `required`).")
    at_rest_kms_key: str = Field(
        "create", description="At-rest encryption key: `create` (a customer-managed KMS key with yearly rotation), "
                              "`aws-managed` (the ElastiCache service key) or the ARN of an existing key.")
    auth_token_update_strategy: Literal["ROTATE", "SET"] = Field(
        "ROTATE", description="How a changed AUTH token is applied (mode `password`): `ROTATE` accepts old and new "
                              "until the next `SET`; neither replaces the cluster.")
    iam_users: list[str] = Field(
        default_factory=list, description="ACL users (from `security.auth.users`, mode `acl`) that authenticate with "
                                          "IAM instead of a generated password; not the first user (the one the "
                                          "connection output uses).")
    vpc_id: Optional[str] = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$",
                                  description="VPC of the security group (required to deploy).")
    subnet_ids: list[str] = Field(
        default_factory=list, description="Private subnets for the subnet group, one per zone (required to deploy).")
    allowed_security_group_ids: list[str] = Field(
        default_factory=list, description="Client security groups admitted on the Redis port.")
    allowed_cidrs: list[str] = Field(
        default_factory=list, description="Client CIDR blocks (IPv4 or IPv6) admitted on the Redis port.")
    allow_any_cidr: bool = Field(
        False, description="Must be true to list 0.0.0.0/0 or ::/0 in `allowed_cidrs` (never the default).")
    security_group_ids: list[str] = Field(
        default_factory=list, description="Existing security groups attached in addition to the one created.")
    multi_az: Optional[bool] = Field(
        None, description="Multi-AZ with automatic failover; default on whenever there are replicas.")
    data_tiering: bool = Field(False, description="Data tiering to local SSD (node types `cache.r6gd.*` only).")
    reserved_memory_percent: int = Field(
        25, ge=0, le=100, description="`reserved-memory-percent`: memory kept for fork copy-on-write and buffers.")
    parameters: dict[str, str] = Field(
        default_factory=dict, description="Extra parameter group settings (not maxmemory-policy, cluster-enabled, "
                                          "reserved-memory-percent: those come from the shared config).")
    snapshot_retention_days: int = Field(
        7, ge=0, le=35, description="Days automatic snapshots are kept (0 = none; needs `persistence.mode: none`).")
    snapshot_window: str = Field("03:00-05:00", description="Daily UTC snapshot window `HH:MM-HH:MM` (>= 60 minutes).")
    final_snapshot: bool = Field(True, description="Take a final snapshot `<name>-final` when the group is deleted.")
    maintenance_window: str = Field(
        "sun:05:00-sun:07:00", description="Weekly UTC maintenance window `ddd:HH:MM-ddd:HH:MM` (>= 60 minutes).")
    apply_immediately: bool = Field(
        False, description="Apply modifications now instead of in the maintenance window.")
    auto_minor_version_upgrade: bool = Field(True, description="Take minor engine upgrades in the maintenance window.")
    notification_topic: str = Field(
        "create", description="SNS topic for ElastiCache events and alarms: `create`, an existing topic ARN, or `none`.")
    log_retention_days: int = Field(30, description="Retention of the slow-log and engine-log groups (CloudWatch values).")
    log_format: Literal["json", "text"] = Field("json", description="Format of delivered logs.")
    alarms: Alarms = Field(default_factory=Alarms, description="CloudWatch alarms per member node.")
    serverless: Optional[Serverless] = Field(None, description="Serverless limits (topology `serverless`).")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every resource (added to Project/Stack/ManagedBy).")

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _NODE_TYPE.match(value):
            raise ValueError(f"{value!r} is not a cache node type (e.g. cache.r7g.large)")
        return value

    @field_validator("at_rest_kms_key")
    @classmethod
    def _kms(cls, value: str) -> str:
        if value not in ("create", "aws-managed") and not _KMS_ARN.match(value):
            raise ValueError(f"{value!r}: use 'create', 'aws-managed' or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        return value

    @field_validator("notification_topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if value not in ("create", "none") and not _SNS_ARN.match(value):
            raise ValueError(f"{value!r}: use 'create', 'none' or an SNS topic ARN")
        return value

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        for subnet in value:
            if not re.match(r"^subnet-[0-9a-f]{8,17}$", subnet):
                raise ValueError(f"{subnet!r} is not a subnet id (subnet-...)")
        if len(set(value)) != len(value):
            raise ValueError("subnet ids must be unique")
        return value

    @field_validator("allowed_security_group_ids", "security_group_ids")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        for group in value:
            if not re.match(r"^sg-[0-9a-f]{8,17}$", group):
                raise ValueError(f"{group!r} is not a security group id (sg-...)")
        return value

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network in CIDR notation (e.g. 10.0.0.0/16)") from None
        return value

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, value: str) -> str:
        if not _SNAPSHOT.match(value):
            raise ValueError(f"{value!r}: use HH:MM-HH:MM (UTC), e.g. 03:00-05:00")
        if _span(*_minutes_of_day(value)) < 60:
            raise ValueError(f"{value!r}: the snapshot window must be at least 60 minutes")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        value = value.lower()
        if not _MAINTENANCE.match(value):
            raise ValueError(f"{value!r}: use ddd:HH:MM-ddd:HH:MM (UTC), e.g. sun:05:00-sun:07:00")
        start, end = _minutes_of_week(value)
        if _span(start, end, 7 * 24 * 60) < 60:
            raise ValueError(f"{value!r}: the maintenance window must be at least 60 minutes")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention (allowed: {', '.join(map(str, LOG_RETENTION_DAYS))})")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, str]) -> dict[str, str]:
        managed = sorted(MANAGED_PARAMETERS & set(value))
        if managed:
            raise ValueError(f"{', '.join(managed)}: set by the shared config (memory.policy, topology, "
                             "elasticache.reserved_memory_percent); remove them here")
        return {k: str(v) for k, v in value.items()}

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise ValueError(f"tag key {key!r}: 1-128 characters, not starting with 'aws:'")
        return {k: str(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _windows_apart(self) -> "ElastiCacheSettings":
        # AWS rejects a snapshot window that overlaps the maintenance window.
        if _overlap(self.snapshot_window, self.maintenance_window):
            raise RuleError("snapshot_window", f"{self.snapshot_window} overlaps maintenance_window "
                                               f"{self.maintenance_window}; move one of them")
        if set(self.allowed_cidrs) & {"0.0.0.0/0", "::/0"} and not self.allow_any_cidr:
            raise RuleError("allowed_cidrs", "0.0.0.0/0 or ::/0 admits every address; list client networks or "
                                             "set allow_any_cidr: true")
        return self


def member_ids(group_id: str, shards: int, nodes_per_shard: int, cluster_mode: bool) -> list[list[str]]:
    """The member cache cluster ids AWS gives a replication group's nodes (CloudWatch's `CacheClusterId`), by shard:
    `<group>-001`, `-002` ... with cluster mode off, `<group>-0001-001` ... with cluster mode on."""
    if cluster_mode:
        return [[f"{group_id}-{s + 1:04d}-{n + 1:03d}" for n in range(nodes_per_shard)] for s in range(shards)]
    return [[f"{group_id}-{n + 1:03d}" for n in range(nodes_per_shard)]]


def _minutes_of_day(window: str) -> tuple[int, int]:
    start, end = window.split("-")
    to_minutes = lambda t: int(t[:2]) * 60 + int(t[3:5])  # noqa: E731
    return to_minutes(start), to_minutes(end)


def _minutes_of_week(window: str) -> tuple[int, int]:
    start, end = window.split("-")
    to_minutes = lambda t: _DAYS.index(t[:3]) * 1440 + int(t[4:6]) * 60 + int(t[7:9])  # noqa: E731
    return to_minutes(start), to_minutes(end)


def _span(start: int, end: int, period: int = 1440) -> int:
    return (end - start) % period


def _overlap(snapshot: str, maintenance: str) -> bool:
    """True when the daily snapshot window meets the weekly maintenance window on any day."""
    week = 7 * 1440
    m_start, m_end = _minutes_of_week(maintenance)
    m_len = _span(m_start, m_end, week)
    s_start, s_end = _minutes_of_day(snapshot)
    s_len = _span(s_start, s_end)
    for day in range(7):
        start = day * 1440 + s_start
        # Two circular intervals overlap when either start lies inside the other.
        if _span(m_start, start, week) < m_len or _span(start, m_start, week) < s_len:
            return True
    return False


def family(engine: str, version: str) -> str:
    """The parameter group family of an engine version (`redis7`, `valkey7`, `valkey8`)."""
    return f"{engine}{version.split('.')[0]}"


def is_data_tiering_type(node_type: str) -> bool:
    """True for node types with local SSD for data tiering (r6gd)."""
    return node_type.startswith("cache.r6gd.")


DEFAULT_NODE_TYPE = "cache.r7g.large"


# What ElastiCache offers (major.minor): Redis OSS up to 7.1, newer engines only as Valkey.
ELASTICACHE_VERSIONS = {"redis": ("7.0", "7.1"), "valkey": ("7.2", "8.0", "8.1")}
DEFAULT_VERSION = {"redis": "7.1", "valkey": "8.0"}


def check(cfg: "StackConfig") -> None:
    """ElastiCache rules across the shared config and this section; each names the key to change."""
    section = cfg.elasticache or ElastiCacheSettings()
    set_keys = section.model_fields_set
    tls = cfg.security.tls
    if cfg.topology == "sentinel":
        raise RuleError("topology", "ElastiCache fails over by itself, without Sentinels; use 'replication' "
                                    "(or 'cluster', 'standalone', 'serverless')")
    if cfg.version not in ELASTICACHE_VERSIONS[cfg.engine]:
        raise RuleError("version", f"ElastiCache offers {cfg.engine} {', '.join(ELASTICACHE_VERSIONS[cfg.engine])} "
                                   f"(not {cfg.version!r}); newer Redis OSS releases exist there only as Valkey")
    if not tls.enabled:
        what = "an AUTH token" if cfg.security.auth.mode == "password" else "RBAC users"
        raise RuleError("security.tls.enabled", f"ElastiCache needs transit encryption for {what}; "
                                                "set security.tls.enabled: true")
    if tls.client_auth == "required":
        raise RuleError("security.tls.client_auth", "ElastiCache has no client certificates (allowed: none, optional)")
    if section.iam_users:
        _check_iam(cfg, section.iam_users)
    if cfg.topology == "serverless":
        _check_serverless(cfg, section, set_keys)
        return
    if section.serverless is not None:
        raise RuleError("elasticache.serverless", f"section given but topology is {cfg.topology!r}; "
                                                  "remove it or set topology: serverless")
    node_type = section.node_type or DEFAULT_NODE_TYPE
    if section.multi_az and cfg.replicas_per_primary < 1:
        raise RuleError("elasticache.multi_az", "Multi-AZ fails over to a replica and there is none "
                                                "(set replicas >= 1 with topology replication/cluster, or multi_az: false)")
    if section.multi_az is not False and cfg.replicas_per_primary >= 1 and len(cfg.zones) == 1:
        raise RuleError("zones", f"Multi-AZ needs at least 2 zones (got {cfg.zones[0]}); add zones or set "
                                 "elasticache.multi_az: false")
    if section.data_tiering and not is_data_tiering_type(node_type):
        raise RuleError("elasticache.data_tiering", f"{node_type} has no SSD for data tiering (allowed: cache.r6gd.*)")
    if is_data_tiering_type(node_type) and not section.data_tiering:
        raise RuleError("elasticache.data_tiering", f"{node_type} nodes require data_tiering: true")
    if cfg.persistence.mode == "rdb" and section.snapshot_retention_days == 0:
        raise RuleError("elasticache.snapshot_retention_days", "persistence.mode 'rdb' needs snapshots kept at least "
                                                               "1 day (or set persistence.mode: none)")
    if cfg.persistence.mode == "none" and "snapshot_retention_days" in set_keys and section.snapshot_retention_days:
        raise RuleError("elasticache.snapshot_retention_days", "persistence.mode is 'none'; remove the retention or "
                                                               "set persistence.mode: rdb")
    if multi_az(cfg) and 0 < len(section.subnet_ids) < 2:
        raise RuleError("elasticache.subnet_ids", "Multi-AZ needs subnets in at least 2 zones (got 1 subnet)")


def multi_az(cfg: "StackConfig") -> bool:
    """Multi-AZ with automatic failover: as configured, else on whenever there are replicas."""
    section = cfg.elasticache or ElastiCacheSettings()
    if cfg.topology == "serverless":
        return True
    return section.multi_az if section.multi_az is not None else cfg.replicas_per_primary >= 1


def _check_iam(cfg: "StackConfig", iam_users: list[str]) -> None:
    auth = cfg.security.auth
    names = [u.name for u in auth.users]
    if auth.mode != "acl":
        raise RuleError("elasticache.iam_users", "IAM authentication needs security.auth.mode: acl")
    unknown = [n for n in iam_users if n not in names]
    if unknown:
        raise RuleError("elasticache.iam_users", f"{', '.join(unknown)} not in security.auth.users "
                                                 f"(allowed: {', '.join(names)})")
    if names[0] in iam_users:
        raise RuleError("elasticache.iam_users", f"{names[0]} is the first user, the one the connection output and "
                                                 "checks use with a password; put an IAM user after it")


def _check_serverless(cfg: "StackConfig", section: ElastiCacheSettings, set_keys: set[str]) -> None:
    if cfg.security.auth.mode != "acl":
        raise RuleError("security.auth.mode", "ElastiCache Serverless has no AUTH token; use mode 'acl' (RBAC users)")
    if "policy" in cfg.memory.model_fields_set or section.parameters:
        key = "elasticache.parameters" if section.parameters else "memory.policy"
        raise RuleError(key, "ElastiCache Serverless has no parameter group; remove it")
    for key, why in (("node_type", "sizes itself"), ("data_tiering", "tiers by itself"),
                     ("multi_az", "is always Multi-AZ"), ("reserved_memory_percent", "manages its memory"),
                     ("transit_encryption_mode", "always requires TLS"), ("snapshot_window", "uses serverless.daily_snapshot_time"),
                     ("maintenance_window", "has no maintenance window"), ("final_snapshot", "takes no final snapshot"),
                     ("auth_token_update_strategy", "has no AUTH token")):
        if key in set_keys:
            raise RuleError(f"elasticache.{key}", f"ElastiCache Serverless {why}; remove it")
    if "replicas" in cfg.model_fields_set:
        raise RuleError("replicas", "ElastiCache Serverless replicates by itself; remove replicas")
    if cfg.ports.redis != 6379:
        raise RuleError("ports.redis", "ElastiCache Serverless listens on 6379 (reads also on 6380); remove the port")
    if cfg.persistence.mode == "rdb" and section.snapshot_retention_days == 0:
        raise RuleError("elasticache.snapshot_retention_days", "persistence.mode 'rdb' needs snapshots kept at least 1 day")
