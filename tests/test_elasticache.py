"""ElastiCache backend under the mocks harness: every child's inputs, secrets, alarms, config rules, the prod stack."""
from __future__ import annotations

import json
import re
import string
from typing import Any

import pulumi
import pytest

from components.elasticache import NODE_MAXMEMORY, expected_maxmemory
from redisinfra.connection import Connection
from redisinfra.mocks import FakeProvider, Recording
from redisinfra.program import main
from redisinfra.stack import ConfigError, parse_config

RG = "aws:elasticache/replicationGroup:ReplicationGroup"
PG = "aws:elasticache/parameterGroup:ParameterGroup"
USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
PASSWORD = "random:index/randomPassword:RandomPassword"
SERVERLESS = "aws:elasticache/serverlessCache:ServerlessCache"
COMPONENT = "redis-infra:aws:ElastiCacheRedis"

NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"],
    "allowed_security_group_ids": ["sg-0123456789abcdef1"],
    "allowed_cidrs": ["10.20.0.0/16"],
}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
ACL_USERS = {"mode": "acl", "users": [{"name": "app"}, {"name": "reporting", "access": "readonly", "keys": "~report:*"}]}


def stack(**values: Any) -> dict[str, str]:
    """Pulumi config text for `redis:` keys, as the runtime holds it (objects as JSON)."""
    values.setdefault("name", "cache")
    values.setdefault("backend", "elasticache")
    values.setdefault("zones", ZONES)
    values["elasticache"] = {**NETWORK, **values.get("elasticache", {})}
    out = {"aws:region": "eu-west-1"}
    for key, value in values.items():
        out[f"redis:{key}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return out


def at_rest_key(rec: Recording) -> Any:
    (found,) = [k for k in rec.by_type(KEY) if k.name == "cache-kms"]
    return found


def component(rec: Recording) -> Any:
    (found,) = rec.by_type(COMPONENT)
    return found


def contract(rec: Recording) -> Connection:
    assert "connection" in rec.secret_outputs
    return Connection.model_validate(rec.outputs["connection"])


def non_secret_text(rec: Recording) -> str:
    """Every value a user or log could see without revealing secrets: non-secret outputs and non-secret inputs."""
    parts = [json.dumps(v, default=str) for k, v in rec.outputs.items() if k not in rec.secret_outputs]
    for reg in rec.registrations:
        for key, value in reg.inputs.items():
            if not reg.is_secret(key):
                parts.append(json.dumps(value, default=str))
    return "\n".join(parts)


MODES = [("replication", {}), ("cluster", {"cluster": {"shards": 3}})]
ENGINES = [("redis", "7.1", "redis7"), ("valkey", "7.2", "valkey7"), ("valkey", "8.0", "valkey8")]


@pytest.mark.parametrize("topology, extra", MODES, ids=[m[0] for m in MODES])
@pytest.mark.parametrize("engine, version, family", ENGINES, ids=[f"{e}{v}" for e, v, _ in ENGINES])
@pytest.mark.parametrize("auth", ["password", "acl"])
def test_replication_group_inputs(pulumi_run, topology: str, extra: dict, engine: str, version: str, family: str,
                                  auth: str) -> None:
    security = {"auth": ACL_USERS} if auth == "acl" else {}
    rec = pulumi_run(main, stack(topology=topology, engine=engine, version=version, replicas=2, security=security,
                                 **extra), stack="t")
    clustered = topology == "cluster"
    (group,) = rec.by_type(RG)
    i = group.inputs
    assert (i["engine"], i["engineVersion"], i["replicationGroupId"]) == (engine, version, "cache")
    assert i["atRestEncryptionEnabled"] is True and i["kmsKeyId"] == at_rest_key(rec).outputs["arn"]
    assert i["transitEncryptionEnabled"] is True and i["transitEncryptionMode"] == "required"
    assert i["automaticFailoverEnabled"] is True and i["multiAzEnabled"] is True
    assert i["clusterMode"] == ("enabled" if clustered else "disabled")
    assert i["securityGroupIds"] == [rec.by_type(SG)[0].id]
    assert i["subnetGroupName"] == "cache" and i["port"] == 6379
    assert i["snapshotRetentionLimit"] == 7 and i["finalSnapshotIdentifier"] == "cache-final"
    assert i["notificationTopicArn"] == rec.by_type(TOPIC)[0].outputs["arn"]
    if clustered:
        assert (i["numNodeGroups"], i["replicasPerNodeGroup"]) == (3, 2) and "numCacheClusters" not in i
        groups = i["nodeGroupConfigurations"]
        assert [g["nodeGroupId"] for g in groups] == ["0001", "0002", "0003"]
        assert [g["primaryAvailabilityZone"] for g in groups] == ZONES  # primaries spread over the zones
        for g in groups:
            assert g["replicaCount"] == 2 and g["primaryAvailabilityZone"] not in g["replicaAvailabilityZones"]
    else:
        assert i["numCacheClusters"] == 3 and "numNodeGroups" not in i
        assert i["preferredCacheClusterAzs"] == ZONES

    # Parameter group: family from engine + major version, cluster-enabled follows the mode, named by family.
    (params,) = rec.by_type(PG)
    settings = {p["name"]: p["value"] for p in params.inputs["parameters"]}
    assert params.inputs["family"] == family and params.inputs["name"] == f"cache-{family}"
    assert settings == {"cluster-enabled": "yes" if clustered else "no", "maxmemory-policy": "volatile-lru",
                        "reserved-memory-percent": "25"}
    assert params.options["delete_before_replace"] is False
    assert i["parameterGroupName"] == f"cache-{family}"

    # Auth: token (secret, letters+digits, >= 32, update strategy set) or RBAC user group with default user off.
    connection = contract(rec)
    if auth == "password":
        assert group.is_secret("authToken") and i["authTokenUpdateStrategy"] == "ROTATE"
        token = i["authToken"]
        assert len(token) >= 32 and set(token) <= set(string.ascii_letters + string.digits)
        assert "userGroupIds" not in i and not rec.by_type(USER_GROUP)
        assert (connection.credentials.username, connection.credentials.password.get_secret_value()) == ("default", token)
        secrets = [token]
    else:
        assert "authToken" not in i and "authTokenUpdateStrategy" not in i
        (user_group,) = rec.by_type(USER_GROUP)
        assert i["userGroupIds"] == [user_group.inputs["userGroupId"]]
        users = {u.inputs["userName"]: u for u in rec.by_type(USER)}
        assert set(users) == {"default", "app", "reporting"}
        assert sorted(user_group.inputs["userIds"]) == sorted(u.inputs["userId"] for u in users.values())
        assert users["default"].inputs["accessString"].startswith("off ")
        assert users["app"].inputs["accessString"].startswith("on ~* &* +@all -@admin")
        assert "-flushall" in users["app"].inputs["accessString"]
        assert users["reporting"].inputs["accessString"].startswith("on ~report:* &* -@all +@read")
        for user in users.values():
            assert user.inputs["engine"] == engine
            assert user.inputs["authenticationMode"]["type"] == "password"
            assert user.is_secret("authenticationMode") or user.is_secret("authenticationMode.passwords")
        assert connection.credentials.username == "app"
        assert connection.credentials.password.get_secret_value() == users["app"].inputs["authenticationMode"]["passwords"][0]
        secrets = [p for u in users.values() for p in u.inputs["authenticationMode"]["passwords"]]
    visible = non_secret_text(rec)
    for secret in secrets:
        assert secret not in visible

    # Contract: configuration endpoint (cluster mode) or primary + reader, TLS via the system trust store.
    assert connection.backend == "elasticache" and connection.topology == topology
    assert connection.tls.enabled and connection.tls.trust == "system" and connection.tls.ca_pem is None
    roles = [e.role for e in connection.endpoints]
    outputs = group.outputs
    if clustered:
        assert roles == ["configuration"] and connection.endpoints[0].host == outputs["configurationEndpointAddress"]
    else:
        assert roles == ["primary", "reader"]
        assert [e.host for e in connection.endpoints] == [outputs["primaryEndpointAddress"], outputs["readerEndpointAddress"]]
    expected = connection.expected
    assert (expected.engine, expected.version, expected.shards, expected.replicas_per_shard) == (
        engine, version, 3 if clustered else 1, 2)
    assert expected.maxmemory == NODE_MAXMEMORY["cache.r7g.large"] * 75 // 100
    assert expected.acl is (auth == "acl")
    # With an AUTH token only ElastiCache's own blocked commands are refused; RBAC enforces the whole list.
    assert expected.disabled_commands == (["CONFIG", "DEBUG", "SHUTDOWN"] if auth == "password"
                                          else parse_config({"backend": "docker", "topology": "standalone"}).security.disabled_commands)

    # Every child is parented to the component, which registered its outputs.
    comp = component(rec)
    for reg in rec.registrations:
        if reg.type not in (COMPONENT,) and reg.urn != comp.urn:
            assert reg.parent == comp.urn, reg.name
    assert "connection" in rec.component_outputs[comp.urn]


@pytest.mark.parametrize("topology, extra, members", [
    ("replication", {}, ["cache-001", "cache-002", "cache-003"]),
    ("cluster", {"cluster": {"shards": 2}}, ["cache-0001-001", "cache-0001-002", "cache-0001-003",
                                             "cache-0002-001", "cache-0002-002", "cache-0002-003"]),
])
def test_alarms_per_member_node(pulumi_run, topology: str, extra: dict, members: list[str]) -> None:
    rec = pulumi_run(main, stack(topology=topology, replicas=2, **extra), stack="t")
    alarms = rec.by_type(ALARM)
    metrics = {"CPUUtilization", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions",
               "CurrConnections", "ReplicationLag"}
    assert len(alarms) == len(members) * len(metrics)
    seen: dict[str, set[str]] = {}
    topic = rec.by_type(TOPIC)[0].outputs["arn"]
    for alarm in alarms:
        i = alarm.inputs
        # The member id, never the replication group id (alarms on that never leave INSUFFICIENT_DATA).
        assert list(i["dimensions"]) == ["CacheClusterId"] and i["dimensions"]["CacheClusterId"] != "cache"
        assert i["namespace"] == "AWS/ElastiCache" and i["alarmActions"] == [topic] and i["okActions"] == [topic]
        seen.setdefault(i["dimensions"]["CacheClusterId"], set()).add(i["metricName"])
    assert sorted(seen) == members and all(m == metrics for m in seen.values())
    lag = [a for a in alarms if a.inputs["metricName"] == "ReplicationLag"]
    assert all(a.inputs["treatMissingData"] == "notBreaching" and a.inputs["threshold"] == 30 for a in lag)
    cpu = [a for a in alarms if a.inputs["metricName"] == "CPUUtilization"]
    assert all(a.inputs["threshold"] == 75 and a.inputs["comparisonOperator"] == "GreaterThanThreshold" for a in cpu)


def test_standalone_has_no_failover_and_no_lag_alarm(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="standalone"), stack="t")
    i = rec.by_type(RG)[0].inputs
    assert (i["numCacheClusters"], i["automaticFailoverEnabled"], i["multiAzEnabled"]) == (1, False, False)
    assert {a.inputs["metricName"] for a in rec.by_type(ALARM)} == {
        "CPUUtilization", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions", "CurrConnections"}
    assert [e.role for e in contract(rec).endpoints] == ["primary"]


def test_log_groups_are_distinct_with_retention(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="replication", elasticache={"log_retention_days": 90, "log_format": "text"}),
                     stack="t")
    groups = {g.inputs["name"]: g.inputs["retentionInDays"] for g in rec.by_type(LOG_GROUP)}
    assert groups == {"/aws/elasticache/cache/slow-log": 90, "/aws/elasticache/cache/engine-log": 90}
    deliveries = rec.by_type(RG)[0].inputs["logDeliveryConfigurations"]
    assert {(d["logType"], d["destination"]) for d in deliveries} == {
        ("slow-log", "/aws/elasticache/cache/slow-log"), ("engine-log", "/aws/elasticache/cache/engine-log")}
    assert all(d["destinationType"] == "cloudwatch-logs" and d["logFormat"] == "text" for d in deliveries)


def test_security_group_admits_only_configured_sources(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="replication", ports={"redis": 6380},
                                 elasticache={"allowed_cidrs": ["10.20.0.0/16", "fd00::/8"]}), stack="t")
    (group,) = rec.by_type(SG)
    assert group.inputs["vpcId"] == NETWORK["vpc_id"] and "egress" not in group.inputs and "ingress" not in group.inputs
    rules = rec.by_type(INGRESS)
    sources = sorted(r.inputs.get("referencedSecurityGroupId") or r.inputs.get("cidrIpv4") or r.inputs["cidrIpv6"]
                     for r in rules)
    assert sources == sorted(["sg-0123456789abcdef1", "10.20.0.0/16", "fd00::/8"])
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 6380, 6380)
        assert rule.inputs["securityGroupId"] == group.id
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0" and rule.inputs.get("cidrIpv6") != "::/0"
    assert rec.by_type(RG)[0].inputs["port"] == 6380


def test_preferred_transit_given_kms_key_topic_off_and_data_tiering(pulumi_run) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-4333-8444-555555555555"
    rec = pulumi_run(main, stack(topology="replication", elasticache={
        "transit_encryption_mode": "preferred", "at_rest_kms_key": key, "notification_topic": "none",
        "node_type": "cache.r6gd.xlarge", "data_tiering": True, "final_snapshot": False,
        "auth_token_update_strategy": "SET", "tags": {"Team": "platform"}}), stack="t")
    i = rec.by_type(RG)[0].inputs
    assert i["transitEncryptionMode"] == "preferred" and i["transitEncryptionEnabled"] is True
    assert i["kmsKeyId"] == key and not rec.by_type(KEY)
    assert "notificationTopicArn" not in i and not rec.by_type(TOPIC)
    assert all(a.inputs.get("alarmActions", []) == [] for a in rec.by_type(ALARM))
    assert i["dataTieringEnabled"] is True and i["nodeType"] == "cache.r6gd.xlarge"
    assert "finalSnapshotIdentifier" not in i and i["authTokenUpdateStrategy"] == "SET"
    assert i["tags"]["Team"] == "platform" and i["tags"]["ManagedBy"] == "pulumi"
    assert contract(rec).expected.maxmemory == expected_maxmemory("cache.r6gd.xlarge", 25)


def test_aws_managed_key_and_persistence_off(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="replication", persistence={"mode": "none"},
                                 elasticache={"at_rest_kms_key": "aws-managed"}), stack="t")
    i = rec.by_type(RG)[0].inputs
    assert i["atRestEncryptionEnabled"] is True and "kmsKeyId" not in i
    assert [k.name for k in rec.by_type(KEY)] == ["cache-events-kms"]
    assert i["snapshotRetentionLimit"] == 0 and contract(rec).expected.persistence == "none"


def test_created_kms_key_rotates(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="replication"), stack="t")
    key = at_rest_key(rec)
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    # The alarm topic has its own key that lets CloudWatch and ElastiCache publish (alias/aws/sns does not).
    (topic,) = rec.by_type(TOPIC)
    (events_key,) = [k for k in rec.by_type(KEY) if k.name == "cache-events-kms"]
    assert topic.inputs["kmsMasterKeyId"] == events_key.outputs["arn"]
    statements = json.loads(events_key.inputs["policy"])["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert set(statements[1]["Principal"]["Service"]) == {"cloudwatch.amazonaws.com", "elasticache.amazonaws.com"}
    assert set(statements[1]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_iam_user(pulumi_run) -> None:
    security = {"auth": {"mode": "acl", "users": [{"name": "app"}, {"name": "lambda"}]}}
    rec = pulumi_run(main, stack(topology="replication", security=security, elasticache={"iam_users": ["lambda"]}),
                     stack="t")
    users = {u.name: u.inputs for u in rec.by_type(USER)}
    iam = next(v for k, v in users.items() if k.endswith("-user-lambda"))
    assert iam["authenticationMode"] == {"type": "iam"} and iam["userName"] == iam["userId"] == "cache-lambda"
    assert not any(p.name.endswith("password-lambda") for p in rec.by_type(PASSWORD))


def test_serverless(pulumi_run) -> None:
    rec = pulumi_run(main, stack(topology="serverless", engine="valkey", version="8.0", security={"auth": ACL_USERS},
                                 elasticache={"serverless": {"max_data_storage_gb": 10, "max_ecpu_per_second": 5000}}),
                     stack="t", mocks=FakeProvider(region="eu-west-1"))
    (cache,) = rec.by_type(SERVERLESS)
    i = cache.inputs
    assert (i["engine"], i["majorEngineVersion"], i["name"]) == ("valkey", "8", "cache")
    assert i["userGroupId"] == rec.by_type(USER_GROUP)[0].inputs["userGroupId"]
    assert i["kmsKeyId"] == at_rest_key(rec).outputs["arn"] and i["subnetIds"] == NETWORK["subnet_ids"]
    assert i["cacheUsageLimits"] == {"dataStorage": {"maximum": 10, "unit": "GB"}, "ecpuPerSeconds": [{"maximum": 5000}]}
    assert i["snapshotRetentionLimit"] == 7 and i["dailySnapshotTime"] == "03:00"
    assert not rec.by_type(RG) and not rec.by_type(PG) and not rec.by_type(LOG_GROUP)
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rec.by_type(INGRESS)} == {(6379, 6380)}
    assert {a.inputs["dimensions"]["clusterId"] for a in rec.by_type(ALARM)} == {"cache"}
    connection = contract(rec)
    assert connection.topology == "serverless" and [(e.role, e.port) for e in connection.endpoints] == [
        ("primary", 6379), ("reader", 6380)]
    assert connection.expected.maxmemory is None and connection.expected.replicas_per_shard == 0


def test_prod_stack_previews_cleanly(pulumi_run) -> None:
    rec = pulumi_run(main, stack="prod")
    assert not rec.warnings()
    connection = contract(rec)
    assert (connection.topology, connection.expected.shards, connection.expected.replicas_per_shard) == ("cluster", 3, 2)
    assert connection.endpoints[0].role == "configuration" and connection.tls.trust == "system"
    (group,) = rec.by_type(RG)
    assert group.inputs["replicationGroupId"] == "redis-prod" and group.inputs["engineVersion"] == "7.1"
    assert len(rec.by_type(ALARM)) == 9 * 6
    assert connection.credentials.password.get_secret_value() not in non_secret_text(rec)


@pytest.mark.parametrize("values, key, words", [
    ({"topology": "replication", "security": {"tls": {"enabled": False}}}, "redis:security.tls.enabled",
     "transit encryption for an AUTH token"),
    ({"topology": "replication", "security": {"tls": {"enabled": False}, "auth": ACL_USERS}},
     "redis:security.auth.mode", "RBAC needs TLS"),
    ({"topology": "standalone", "elasticache": {"multi_az": True}}, "redis:elasticache.multi_az", "there is none"),
    ({"topology": "replication", "elasticache": {"data_tiering": True}}, "redis:elasticache.data_tiering",
     "no SSD for data tiering (allowed: cache.r6gd.*)"),
    ({"topology": "replication", "elasticache": {"node_type": "cache.r6gd.xlarge"}}, "redis:elasticache.data_tiering",
     "require data_tiering: true"),
    ({"topology": "serverless", "security": {"auth": ACL_USERS}, "elasticache": {"parameters": {"timeout": "300"}}},
     "redis:elasticache.parameters", "Serverless has no parameter group"),
    ({"topology": "serverless", "security": {"auth": ACL_USERS}, "memory": {"policy": "allkeys-lru"}},
     "redis:memory.policy", "Serverless has no parameter group"),
    ({"topology": "serverless"}, "redis:security.auth.mode", "Serverless has no AUTH token"),
    ({"topology": "serverless", "security": {"auth": ACL_USERS}, "elasticache": {"node_type": "cache.r7g.large"}},
     "redis:elasticache.node_type", "Serverless sizes itself"),
    ({"topology": "serverless", "backend": "docker"}, "redis:topology", "'serverless' is ElastiCache Serverless"),
    ({"topology": "sentinel"}, "redis:topology", "without Sentinels"),
    ({"topology": "replication", "elasticache": {"allowed_cidrs": ["0.0.0.0/0"]}}, "redis:elasticache.allowed_cidrs",
     "allow_any_cidr: true"),
    ({"topology": "replication", "elasticache": {"allowed_cidrs": ["10.0.0.1/8"]}}, "redis:elasticache.allowed_cidrs",
     "not a network in CIDR notation"),
    ({"topology": "replication", "elasticache": {"parameters": {"cluster-enabled": "yes"}}},
     "redis:elasticache.parameters", "set by the shared config"),
    ({"topology": "replication", "elasticache": {"snapshot_window": "04:00-06:00"}}, "redis:elasticache.snapshot_window",
     "overlaps maintenance_window"),
    ({"topology": "replication", "elasticache": {"maintenance_window": "sun:05:00-sun:05:30"}},
     "redis:elasticache.maintenance_window", "at least 60 minutes"),
    ({"topology": "replication", "zones": ["eu-west-1a"]}, "redis:zones", "Multi-AZ needs at least 2 zones"),
    ({"topology": "replication", "elasticache": {"subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1"]}},
     "redis:elasticache.subnet_ids", "at least 2 zones"),
    ({"topology": "replication", "elasticache": {"snapshot_retention_days": 0}},
     "redis:elasticache.snapshot_retention_days", "at least 1 day"),
    ({"topology": "replication", "elasticache": {"log_retention_days": 2}}, "redis:elasticache.log_retention_days",
     "not a CloudWatch Logs retention"),
    ({"topology": "replication", "elasticache": {"at_rest_kms_key": "mine"}}, "redis:elasticache.at_rest_kms_key",
     "'create', 'aws-managed' or a KMS key ARN"),
    ({"topology": "replication", "elasticache": {"iam_users": ["app"]}}, "redis:elasticache.iam_users",
     "needs security.auth.mode: acl"),
    ({"topology": "replication", "security": {"auth": ACL_USERS}, "elasticache": {"iam_users": ["app"]}},
     "redis:elasticache.iam_users", "is the first user"),
    ({"topology": "replication", "security": {"tls": {"client_auth": "required"}}}, "redis:security.tls.client_auth",
     "no client certificates"),
    ({"topology": "replication", "elasticache": {"node_typ": "cache.r7g.large"}}, "redis:elasticache.node_typ",
     "did you mean 'node_type'?"),
    ({"topology": "replication", "elasticache": {"serverless": {}}}, "redis:elasticache.serverless",
     "set topology: serverless"),
])
def test_invalid_combinations_are_one_line_config_errors(values: dict, key: str, words: str) -> None:
    values = {"backend": "elasticache", "zones": ZONES, **values}
    values["elasticache"] = {**NETWORK, **values.get("elasticache", {})} if values["backend"] == "elasticache" else None
    if values["elasticache"] is None:
        del values["elasticache"]
    with pytest.raises(ConfigError) as error:
        parse_config(values, "Pulumi.t.yaml")
    message = str(error.value)
    assert "\n" not in message and message.startswith("Pulumi.t.yaml: ")
    assert f": {key}: " in message, message
    assert words in message, message


@pytest.mark.parametrize("missing, key", [("vpc_id", "elasticache.vpc_id"), ("subnet_ids", "elasticache.subnet_ids"),
                                          ("allowed", "elasticache.allowed_security_group_ids")])
def test_deploy_needs_network_before_any_resource(pulumi_run, missing: str, key: str) -> None:
    config = stack(topology="replication")
    section = json.loads(config["redis:elasticache"])
    for name in (["allowed_security_group_ids", "allowed_cidrs"] if missing == "allowed" else [missing]):
        section.pop(name)
    config["redis:elasticache"] = json.dumps(section)
    with pytest.raises(pulumi.RunError) as error:
        pulumi_run(main, config, stack="t")
    assert re.match(rf"^stack t: redis:{re.escape(key)}: [^\n]+$", str(error.value)), str(error.value)


def test_valid_edge_configs_parse() -> None:
    base = {"backend": "elasticache", "zones": ZONES, "elasticache": dict(NETWORK)}
    parse_config({**base, "topology": "cluster", "cluster": {"shards": 1}})
    parse_config({**base, "topology": "replication", "elasticache": {**NETWORK, "allowed_cidrs": ["0.0.0.0/0"],
                                                                      "allow_any_cidr": True}})
    parse_config({**base, "topology": "replication", "elasticache": {"multi_az": False}, "zones": ["eu-west-1a"]})
    cfg = parse_config({**base, "topology": "serverless", "security": {"auth": ACL_USERS}})
    assert cfg.replicas_per_primary == 0
