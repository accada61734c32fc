"""`ElastiCacheRedis`: the plan realised as an ElastiCache replication group (cluster mode off or on) or a Serverless cache.

Children (all parented to the component): KMS key + alias (at rest), subnet group, security group + one ingress rule
per allowed source, parameter group (family from engine + major version, created before the old one is replaced),
AUTH token (pulumi-random) or RBAC users + user group (default user off), slow-log and engine-log groups, SNS topic,
the replication group (or serverless cache) and CloudWatch alarms per member node.
The connection contract (`.connection`) names the configuration endpoint (cluster mode) or the primary and reader
endpoints, TLS against the system trust store, and the expected settings the post-deploy checks compare.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import SecretStr

from redisinfra.config import StackConfig
from redisinfra.connection import Connection, Credentials, Endpoint, TLSInfo, expected_from
from redisinfra.credentials import PASSWORD_LENGTH, app_users, connection_user
from redisinfra.plan import Plan
from redisinfra.sections.base import RuleError
from redisinfra.sections.elasticache import (DEFAULT_NODE_TYPE, ElastiCacheSettings, family, member_ids,
                                             multi_az)

TYPE = "redis-infra:aws:ElastiCacheRedis"

# The `maxmemory` ElastiCache sets per node type (bytes), from AWS's "node-type specific parameters" tables for
# Redis OSS / Valkey. The data available to Redis is this minus `reserved-memory-percent` (fork copy-on-write headroom).
NODE_MAXMEMORY: dict[str, int] = {
    "cache.t2.micro": 581959680, "cache.t2.small": 1665138688, "cache.t2.medium": 3461349376,
    "cache.t3.micro": 536870912, "cache.t3.small": 1471026299, "cache.t3.medium": 3317862236,
    "cache.t4g.micro": 536870912, "cache.t4g.small": 1471026299, "cache.t4g.medium": 3317862236,
    "cache.m5.large": 6854542746, "cache.m5.xlarge": 13891921715, "cache.m5.2xlarge": 27966669210,
    "cache.m5.4xlarge": 56116178125, "cache.m5.12xlarge": 168715971994, "cache.m5.24xlarge": 337500562842,
    "cache.m6g.large": 6854542746, "cache.m6g.xlarge": 13891921715, "cache.m6g.2xlarge": 27966669210,
    "cache.m6g.4xlarge": 56116178125, "cache.m6g.8xlarge": 111325552312, "cache.m6g.12xlarge": 168715971994,
    "cache.m6g.16xlarge": 225000375228,
    "cache.m7g.large": 6854542746, "cache.m7g.xlarge": 13891921715, "cache.m7g.2xlarge": 27966669210,
    "cache.m7g.4xlarge": 56116178125, "cache.m7g.8xlarge": 111325552312, "cache.m7g.12xlarge": 168715971994,
    "cache.m7g.16xlarge": 225000375228,
    "cache.r5.large": 14037181030, "cache.r5.xlarge": 28261849702, "cache.r5.2xlarge": 56711183565,
    "cache.r5.4xlarge": 113609865216, "cache.r5.12xlarge": 341206346547, "cache.r5.24xlarge": 682485973811,
    "cache.r6g.large": 14037181030, "cache.r6g.xlarge": 28261849702, "cache.r6g.2xlarge": 56711183565,
    "cache.r6g.4xlarge": 113609865216, "cache.r6g.8xlarge": 225000375228, "cache.r6g.12xlarge": 341206346547,
    "cache.r6g.16xlarge": 450000750456,
    "cache.r6gd.xlarge": 28261849702, "cache.r6gd.2xlarge": 56711183565, "cache.r6gd.4xlarge": 113609865216,
    "cache.r6gd.8xlarge": 225000375228, "cache.r6gd.12xlarge": 341206346547, "cache.r6gd.16xlarge": 450000750456,
    "cache.r7g.large": 14037181030, "cache.r7g.xlarge": 28261849702, "cache.r7g.2xlarge": 56711183565,
    "cache.r7g.4xlarge": 113609865216, "cache.r7g.8xlarge": 225000375228, "cache.r7g.12xlarge": 341206346547,
    "cache.r7g.16xlarge": 450000750456,
}
# Commands ElastiCache itself refuses (REFERENCE.md): with an AUTH token these are the only disabled ones enforced.
ELASTICACHE_BLOCKED = frozenset({"CONFIG", "BGSAVE", "SAVE", "BGREWRITEAOF", "DEBUG", "MIGRATE", "REPLICAOF",
                                 "SLAVEOF", "SHUTDOWN", "SYNC", "PSYNC"})
ALARM_PERIOD_SECONDS = 300


def expected_maxmemory(node_type: str, reserved_percent: int) -> Optional[int]:
    """Bytes Redis may use on one node: the node type's maxmemory minus the reserved share (None if unknown)."""
    total = NODE_MAXMEMORY.get(node_type)
    return None if total is None else total * (100 - reserved_percent) // 100


def enforced_disabled_commands(cfg: StackConfig) -> list[str]:
    """Disabled commands a client will really see refused: all with RBAC, only ElastiCache's own with an AUTH token."""
    if cfg.security.auth.mode == "acl":
        return list(cfg.security.disabled_commands)
    return [c for c in cfg.security.disabled_commands if c in ELASTICACHE_BLOCKED]


def parameters(cfg: StackConfig) -> dict[str, str]:
    """Parameter group settings derived from the shared config, plus the section's extra `parameters`."""
    section = _section(cfg)
    out = {
        "maxmemory-policy": cfg.memory.policy,
        "cluster-enabled": "yes" if cfg.topology == "cluster" else "no",
        "reserved-memory-percent": str(section.reserved_memory_percent),
    }
    out.update(section.parameters)
    return out


def access_string(rules: str) -> str:
    """An RBAC access string: the user switched on with the same ACL rules the self-hosted backends write."""
    return f"on {rules}"


def user_id(deployment: str, user: str) -> str:
    """An RBAC user id (letters, digits, single hyphens, <= 40) unique to this deployment."""
    text = re.sub(r"-+", "-", f"{deployment}-{user}".replace("_", "-")).strip("-")
    if len(text) > 40:
        text = f"{text[:31].rstrip('-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return text


def _topic_key_policy() -> pulumi.Output[str]:
    """Key policy of the topic's key: the account administers it; CloudWatch and ElastiCache may publish."""
    account = aws.get_caller_identity_output().account_id
    partition = aws.get_partition_output().partition
    return pulumi.Output.all(account, partition).apply(lambda args: json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{args[1]}:iam::{args[0]}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "ServicesPublish", "Effect": "Allow",
             "Principal": {"Service": ["cloudwatch.amazonaws.com", "elasticache.amazonaws.com"]},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ],
    }))


def _section(cfg: StackConfig) -> ElastiCacheSettings:
    return cfg.elasticache or ElastiCacheSettings()


def _require_network(cfg: StackConfig) -> None:
    """What cannot have a safe default: where the cluster lives and who may connect (checked before any resource)."""
    section = _section(cfg)
    if not section.vpc_id:
        raise RuleError("elasticache.vpc_id", "required to deploy: the VPC of the cache's security group (vpc-...)")
    if not section.subnet_ids:
        raise RuleError("elasticache.subnet_ids", "required to deploy: private subnets, one per zone (subnet-...)")
    if not section.allowed_security_group_ids and not section.allowed_cidrs:
        raise RuleError("elasticache.allowed_security_group_ids",
                        "nothing may connect: list client security groups here or networks in allowed_cidrs")


class ElastiCacheRedis(pulumi.ComponentResource):
    """An ElastiCache replication group (cluster mode off/on) or Serverless cache with its security, parameters,
    logs, alarms and the connection contract as `.connection` (an Output of its JSON dict, secret)."""

    connection: pulumi.Output[dict]

    def __init__(self, name: str, cfg: StackConfig, plan: Plan, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        try:
            _require_network(cfg)
        except RuleError as error:
            # One line naming the key, before any resource is registered (DESIGN.md: bad input stops everything).
            raise pulumi.RunError(f"stack {pulumi.get_stack()}: redis:{error.path}: {error}") from None
        super().__init__(TYPE, name, None, opts)
        self.cfg, self.plan, self.section = cfg, plan, _section(cfg)
        self._child = pulumi.ResourceOptions(parent=self)
        self.tags = {"Project": pulumi.get_project(), "Stack": pulumi.get_stack(), "Deployment": cfg.name,
                     "ManagedBy": "pulumi", **self.section.tags}

        self.kms_key_arn = self._kms_key()
        self.subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets", name=cfg.name, description=f"{cfg.name}: private subnets",
            subnet_ids=list(self.section.subnet_ids), tags=self.tags, opts=self._child)
        self.security_group = self._security_group(name)
        self.topic_arn = self._topic(name)
        self.password, self.auth_token, self.user_group = self._auth(name)

        if cfg.topology == "serverless":
            self.cache = self._serverless(name)
            endpoints = self._serverless_endpoints()
            self.parameter_group = None
            self.log_groups: dict[str, aws.cloudwatch.LogGroup] = {}
            self.alarms = self._serverless_alarms(name)
        else:
            self.parameter_group = self._parameter_group(name)
            self.log_groups = self._log_groups(name)
            self.cache = self._replication_group(name)
            endpoints = self._group_endpoints()
            self.alarms = self._alarms(name)

        self.connection = pulumi.Output.secret(
            pulumi.Output.all(endpoints, self.password).apply(lambda args: self._contract(args[0], args[1])))
        self.register_outputs({"connection": self.connection, "cache_id": self.cache.id,
                               "security_group_id": self.security_group.id})

    # -- security ---------------------------------------------------------------------------------------------

    def _kms_key(self) -> Optional[pulumi.Input[str]]:
        choice = self.section.at_rest_kms_key
        if choice == "aws-managed":
            return None
        if choice != "create":
            return choice
        key = aws.kms.Key(
            f"{self.cfg.name}-kms", description=f"{self.cfg.name}: ElastiCache at-rest encryption",
            enable_key_rotation=True, deletion_window_in_days=30, tags=self.tags, opts=self._child)
        aws.kms.Alias(f"{self.cfg.name}-kms-alias", name=f"alias/{self.cfg.name}-elasticache",
                      target_key_id=key.key_id, opts=self._child)
        return key.arn

    def _security_group(self, name: str) -> aws.ec2.SecurityGroup:
        # No egress rules: ElastiCache never initiates connections, and the provider drops AWS's default allow-all.
        group = aws.ec2.SecurityGroup(
            f"{name}-sg", name=f"{self.cfg.name}-elasticache", vpc_id=self.section.vpc_id,
            description=f"{self.cfg.name}: Redis clients only", revoke_rules_on_delete=True, tags=self.tags,
            opts=self._child)
        port = self.cfg.ports.redis
        # Serverless also serves reads on port + 1.
        high = port + 1 if self.cfg.topology == "serverless" else port
        for source in self.section.allowed_security_group_ids:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-{source}", security_group_id=group.id, referenced_security_group_id=source,
                ip_protocol="tcp", from_port=port, to_port=high, description=f"Redis from {source}",
                tags=self.tags, opts=self._child)
        for cidr in self.section.allowed_cidrs:
            family_key = "cidr_ipv6" if ":" in cidr else "cidr_ipv4"
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-{cidr.replace('/', '-').replace(':', '.')}", security_group_id=group.id,
                ip_protocol="tcp", from_port=port, to_port=high, description=f"Redis from {cidr}",
                tags=self.tags, opts=self._child, **{family_key: cidr})
        return group

    def _topic(self, name: str) -> Optional[pulumi.Input[str]]:
        choice = self.section.notification_topic
        if choice == "none":
            return None
        if choice != "create":
            return choice
        # Encrypted with its own key: the AWS-managed alias/aws/sns key does not let CloudWatch alarms publish.
        key = aws.kms.Key(
            f"{name}-events-kms", description=f"{self.cfg.name}: ElastiCache event and alarm topic",
            enable_key_rotation=True, deletion_window_in_days=30, policy=_topic_key_policy(), tags=self.tags,
            opts=self._child)
        topic = aws.sns.Topic(f"{name}-events", name=f"{self.cfg.name}-elasticache-events",
                              kms_master_key_id=key.arn, tags=self.tags, opts=self._child)
        return topic.arn

    def _password(self, name: str) -> random.RandomPassword:
        # Letters and digits only (credentials.ALPHABET): valid as an AUTH token and in RBAC, no URL escaping.
        return random.RandomPassword(name, length=PASSWORD_LENGTH, special=False, upper=True, lower=True,
                                     numeric=True, opts=self._child)

    def _auth(self, name: str) -> tuple[pulumi.Output[str], Optional[pulumi.Output[str]], Optional[Any]]:
        """(password of the connection user, AUTH token or None, user group or None)."""
        cfg = self.cfg
        if cfg.security.auth.mode == "password":
            token = self._password(f"{name}-auth-token").result
            return token, token, None
        iam = set(self.section.iam_users)
        users = [aws.elasticache.User(
            f"{name}-user-default", user_id=user_id(cfg.name, "default"), user_name="default", engine=cfg.engine,
            access_string="off -@all", authentication_mode={"type": "password", "passwords": [
                self._password(f"{name}-password-default").result]},
            tags=self.tags, opts=self._child)]
        first: Optional[pulumi.Output[str]] = None
        for user in app_users(cfg):
            uid = user_id(cfg.name, user.name)
            if user.name in iam:
                # IAM: ElastiCache requires the user name to equal the user id; clients sign a token as that name.
                mode: dict[str, Any] = {"type": "iam"}
                user_name = uid
            else:
                password = self._password(f"{name}-password-{user.name}").result
                first = first or password
                mode = {"type": "password", "passwords": [password]}
                user_name = user.name
            users.append(aws.elasticache.User(
                f"{name}-user-{user.name}", user_id=uid, user_name=user_name, engine=cfg.engine,
                access_string=access_string(user.rules), authentication_mode=mode, tags=self.tags,
                opts=self._child))
        group = aws.elasticache.UserGroup(
            f"{name}-users", user_group_id=user_id(cfg.name, "users"), engine=cfg.engine,
            user_ids=[u.user_id for u in users], tags=self.tags, opts=self._child)
        assert first is not None  # the config rule keeps the first (connection) user on a password
        return first, None, group

    # -- node-based -------------------------------------------------------------------------------------------

    def _parameter_group(self, name: str) -> aws.elasticache.ParameterGroup:
        fam = family(self.cfg.engine, self.cfg.version or "")
        # The family is part of the name: an engine upgrade creates the new group first (create-before-delete,
        # Pulumi's default for replacements), the replication group moves to it, then the old one is deleted.
        return aws.elasticache.ParameterGroup(
            f"{name}-params-{fam}", name=f"{self.cfg.name}-{fam}", family=fam,
            description=f"{self.cfg.name}: {self.cfg.engine} {self.cfg.version} settings from the stack config",
            parameters=[{"name": k, "value": v} for k, v in sorted(parameters(self.cfg).items())],
            tags=self.tags, opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False))

    def _log_groups(self, name: str) -> dict[str, aws.cloudwatch.LogGroup]:
        # One group per log type: sharing one makes slow-log and engine-log collide (REFERENCE.md).
        return {kind: aws.cloudwatch.LogGroup(
            f"{name}-{kind}", name=f"/aws/elasticache/{self.cfg.name}/{kind}",
            retention_in_days=self.section.log_retention_days, tags=self.tags, opts=self._child)
            for kind in ("slow-log", "engine-log")}

    def _replication_group(self, name: str) -> aws.elasticache.ReplicationGroup:
        cfg, section = self.cfg, self.section
        clustered = cfg.topology == "cluster"
        replicas = cfg.replicas_per_primary
        zoned = bool(cfg.zones) and all(n.zone for n in self.plan.nodes)
        args: dict[str, Any] = dict(
            replication_group_id=cfg.name, description=f"{cfg.name}: {cfg.topology} ({cfg.engine} {cfg.version})",
            engine=cfg.engine, engine_version=cfg.version, node_type=section.node_type or DEFAULT_NODE_TYPE,
            port=cfg.ports.redis, parameter_group_name=self.parameter_group.name,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id, *section.security_group_ids],
            at_rest_encryption_enabled=True, kms_key_id=self.kms_key_arn,
            transit_encryption_enabled=True, transit_encryption_mode=section.transit_encryption_mode,
            automatic_failover_enabled=replicas >= 1, multi_az_enabled=multi_az(cfg),
            cluster_mode="enabled" if clustered else "disabled",
            data_tiering_enabled=section.data_tiering,
            snapshot_retention_limit=section.snapshot_retention_days if cfg.persistence.mode != "none" else 0,
            snapshot_window=section.snapshot_window,
            final_snapshot_identifier=f"{cfg.name}-final" if section.final_snapshot else None,
            maintenance_window=section.maintenance_window, notification_topic_arn=self.topic_arn,
            apply_immediately=section.apply_immediately, auto_minor_version_upgrade=section.auto_minor_version_upgrade,
            log_delivery_configurations=[
                {"destination": group.name, "destination_type": "cloudwatch-logs",
                 "log_format": section.log_format, "log_type": kind} for kind, group in self.log_groups.items()],
            tags=self.tags,
        )
        if self.auth_token is not None:
            # Without a strategy a changed token is an error in pulumi-aws v7; ROTATE/SET update in place.
            args.update(auth_token=self.auth_token, auth_token_update_strategy=section.auth_token_update_strategy)
        else:
            args.update(user_group_ids=[self.user_group.user_group_id])
        if clustered:
            args.update(num_node_groups=cfg.shards, replicas_per_node_group=replicas)
            if zoned:
                args["node_group_configurations"] = [{
                    "node_group_id": f"{p.shard + 1:04d}", "primary_availability_zone": p.zone,
                    "replica_availability_zones": [r.zone for r in self.plan.replicas_of(p)],
                    "replica_count": replicas} for p in self.plan.primaries()]
        else:
            args.update(num_cache_clusters=1 + replicas)
            if zoned:
                args["preferred_cache_cluster_azs"] = [n.zone for n in self.plan.nodes]
        return aws.elasticache.ReplicationGroup(f"{name}-group", **args, opts=self._child)

    def _group_endpoints(self) -> pulumi.Output[list[dict]]:
        group, port = self.cache, self.cfg.ports.redis
        if self.cfg.topology == "cluster":
            return group.configuration_endpoint_address.apply(
                lambda host: [{"name": "configuration", "host": host, "port": port, "role": "configuration"}])
        readers = self.cfg.replicas_per_primary >= 1
        return pulumi.Output.all(group.primary_endpoint_address, group.reader_endpoint_address).apply(
            lambda hosts: [{"name": "primary", "host": hosts[0], "port": port, "role": "primary", "shard": 0}]
            + ([{"name": "reader", "host": hosts[1], "port": port, "role": "reader", "shard": 0}] if readers else []))

    def _alarms(self, name: str) -> list[aws.cloudwatch.MetricAlarm]:
        cfg, spec = self.cfg, self.section.alarms
        if not spec.enabled:
            return []
        clustered = cfg.topology == "cluster"
        members = [m for shard in member_ids(cfg.name, cfg.shards, 1 + cfg.replicas_per_primary, clustered)
                   for m in shard]
        checks = [
            ("cpu", "CPUUtilization", "Average", spec.cpu_percent, "missing"),
            ("engine-cpu", "EngineCPUUtilization", "Average", spec.engine_cpu_percent, "missing"),
            ("memory", "DatabaseMemoryUsagePercentage", "Average", spec.memory_percent, "missing"),
            ("evictions", "Evictions", "Sum", spec.evictions, "notBreaching"),
            ("connections", "CurrConnections", "Maximum", spec.connections, "missing"),
        ]
        if cfg.replicas_per_primary:
            # Every member: roles move on failover; the primary reports no lag, which counts as OK.
            checks.append(("replication-lag", "ReplicationLag", "Maximum", spec.replication_lag_seconds, "notBreaching"))
        actions = [self.topic_arn] if self.topic_arn is not None else []
        return [aws.cloudwatch.MetricAlarm(
            f"{member}-{short}", name=f"{member}-{short}", namespace="AWS/ElastiCache", metric_name=metric,
            dimensions={"CacheClusterId": member}, statistic=statistic, comparison_operator="GreaterThanThreshold",
            threshold=float(threshold), period=ALARM_PERIOD_SECONDS, evaluation_periods=spec.evaluation_periods,
            treat_missing_data=missing, alarm_description=f"{cfg.name}: {metric} of member {member} above {threshold}",
            alarm_actions=actions, ok_actions=actions, tags=self.tags, opts=self._child)
            for member in members for short, metric, statistic, threshold, missing in checks]

    # -- serverless -------------------------------------------------------------------------------------------

    def _serverless(self, name: str) -> aws.elasticache.ServerlessCache:
        cfg, section = self.cfg, self.section
        limits = section.serverless
        usage: dict[str, Any] = {}
        if limits and limits.max_data_storage_gb:
            usage["data_storage"] = {"maximum": limits.max_data_storage_gb, "unit": "GB"}
        if limits and limits.max_ecpu_per_second:
            usage["ecpu_per_seconds"] = [{"maximum": limits.max_ecpu_per_second}]
        return aws.elasticache.ServerlessCache(
            f"{name}-serverless", name=cfg.name, engine=cfg.engine,
            major_engine_version=(cfg.version or "").split(".")[0],
            description=f"{cfg.name}: serverless ({cfg.engine} {cfg.version})",
            kms_key_id=self.kms_key_arn, security_group_ids=[self.security_group.id, *section.security_group_ids],
            subnet_ids=list(section.subnet_ids), user_group_id=self.user_group.user_group_id,
            snapshot_retention_limit=section.snapshot_retention_days if cfg.persistence.mode != "none" else 0,
            daily_snapshot_time=(limits.daily_snapshot_time if limits else "03:00"),
            cache_usage_limits=usage or None, tags=self.tags, opts=self._child)

    def _serverless_endpoints(self) -> pulumi.Output[list[dict]]:
        def pick(values: Any) -> tuple[Optional[str], Optional[int]]:
            first = (values or [None])[0]
            if first is None:
                return None, None
            get = first.get if isinstance(first, dict) else (lambda key: getattr(first, key, None))
            return get("address"), get("port")

        def build(args: list[Any]) -> list[dict]:
            (host, port), (reader, reader_port) = pick(args[0]), pick(args[1])
            out = [{"name": "primary", "host": host, "port": port or 6379, "role": "primary", "shard": 0}]
            if reader:
                out.append({"name": "reader", "host": reader, "port": reader_port or 6380, "role": "reader", "shard": 0})
            return out

        return pulumi.Output.all(self.cache.endpoints, self.cache.reader_endpoints).apply(build)

    def _serverless_alarms(self, name: str) -> list[aws.cloudwatch.MetricAlarm]:
        spec = self.section.alarms
        if not spec.enabled:
            return []
        actions = [self.topic_arn] if self.topic_arn is not None else []
        checks = [("throttled", "ThrottledCmds", "Sum", 0), ("connections", "CurrConnections", "Maximum", spec.connections)]
        return [aws.cloudwatch.MetricAlarm(
            f"{self.cfg.name}-{short}", name=f"{self.cfg.name}-{short}", namespace="AWS/ElastiCache",
            metric_name=metric, dimensions={"clusterId": self.cfg.name}, statistic=statistic,
            comparison_operator="GreaterThanThreshold", threshold=float(threshold), period=ALARM_PERIOD_SECONDS,
            evaluation_periods=spec.evaluation_periods, treat_missing_data="notBreaching",
            alarm_description=f"{self.cfg.name}: serverless {metric} above {threshold}",
            alarm_actions=actions, ok_actions=actions, tags=self.tags, opts=self._child)
            for short, metric, statistic, threshold in checks]

    # -- contract ---------------------------------------------------------------------------------------------

    def _contract(self, endpoints: list[dict], password: str) -> dict:
        cfg = self.cfg
        maxmemory = None if cfg.topology == "serverless" else expected_maxmemory(
            self.section.node_type or DEFAULT_NODE_TYPE, self.section.reserved_memory_percent)
        expected = expected_from(cfg, maxmemory).model_copy(update={"disabled_commands": enforced_disabled_commands(cfg)})
        connection = Connection(
            name=cfg.name, backend="elasticache", topology=cfg.topology,
            tls=TLSInfo(enabled=True, trust="system", ca_pem=None, check_hostname=True),
            credentials=Credentials(username=connection_user(cfg), password=SecretStr(password)),
            endpoints=[Endpoint(**e) for e in endpoints], sentinel_master=None, expected=expected)
        return connection.model_dump(mode="json")
