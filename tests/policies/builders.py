"""Resources as the engine sends them to the pack (wire names, secrets and unknowns encoded), secure by default.

Self-hosted configs come from the project's own renderer, so the tests also prove that what redis-infra
renders passes the pack.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from redisinfra.analyzer import UNKNOWN, Resource, secret, urn_for
from redisinfra.credentials import Secrets, user_names
from redisinfra.plan import build_plan
from redisinfra.render import Paths, render_node, render_secret_files, sentinel_launch
from redisinfra.stack import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
RG = "aws:elasticache/replicationGroup:ReplicationGroup"
PG = "aws:elasticache/parameterGroup:ParameterGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EC2 = "aws:ec2/instance:Instance"
CONTAINER = "docker:index/container:Container"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SERVICE = "kubernetes:core/v1:Service"
SERVERLESS = "aws:elasticache/serverlessCache:ServerlessCache"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DROP = object()  # an override that removes the key
PASSWORD = "Zq8TzWp4Lm2Xv7Rk9Bn3Hc6Jd1Fs5Ga0"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"



def resource(type_: str, props: dict[str, Any], name: str = "subject") -> Resource:
    """A resource with an engine-format URN."""
    return Resource(type=type_, name=name, urn=urn_for(type_, name), properties=props)


def _apply(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def replication_group(**overrides: Any) -> dict[str, Any]:
    """A replication group that passes every policy."""
    return _apply({
        "engine": "redis", "engineVersion": "7.1", "nodeType": "cache.r7g.large",
        "transitEncryptionEnabled": True, "transitEncryptionMode": "required", "authToken": secret(PASSWORD),
        "authTokenUpdateStrategy": "ROTATE", "atRestEncryptionEnabled": True,
        "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/0a1b", "snapshotRetentionLimit": 7,
        "automaticFailoverEnabled": True, "multiAzEnabled": True, "numNodeGroups": 3, "replicasPerNodeGroup": 2,
        "autoMinorVersionUpgrade": True, "parameterGroupName": "app-redis7", "securityGroupIds": ["sg-0abc"],
    }, overrides)


def serverless_cache(**overrides: Any) -> dict[str, Any]:
    """An ElastiCache Serverless cache that passes every policy (AWS always encrypts it, at rest and in transit)."""
    return _apply({
        "name": "app", "engine": "valkey", "majorEngineVersion": "8", "userGroupId": "app-users",
        "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/0a1b", "snapshotRetentionLimit": 7,
        "dailySnapshotTime": "03:00", "securityGroupIds": ["sg-0abc"], "subnetIds": ["subnet-0a", "subnet-0b"],
    }, overrides)


def parameter_group(**overrides: Any) -> dict[str, Any]:
    """A parameter group that sets an allowed eviction policy."""
    return _apply({"family": "redis7", "name": "app-redis7", "parameters": [
        {"name": "maxmemory-policy", "value": "volatile-lru"}, {"name": "reserved-memory-percent", "value": "25"}]},
        overrides)


def rendered(role: str = "replica", stack: str = "Pulumi.dev.yaml") -> tuple[str, dict[str, str]]:
    """(config text, secret files by name) that redis-infra renders for one node of a stack ('sentinel' too)."""
    cfg = load_stack_file(ROOT / stack)
    plan = build_plan(cfg)
    node = next(n for n in plan.all_nodes if n.role == role)
    secrets = Secrets({u: PASSWORD for u in user_names(cfg)}, PASSWORD if cfg.topology == "sentinel" else "")
    conf = next(iter(render_node(plan, node).values()))
    return conf, render_secret_files(plan, node, secrets)


def docker_container(role: str = "replica", **overrides: Any) -> dict[str, Any]:
    """A Docker container like the Docker backend's: rendered config uploaded, secret files as secrets."""
    conf, secret_files = rendered(role)
    sentinel = role == "sentinel"
    uploads = [{"file": "/etc/redis/sentinel.conf" if sentinel else "/etc/redis/redis.conf", "content": conf}]
    uploads += [{"file": f"/etc/redis/{name}", "content": secret(text)} for name, text in secret_files.items()]
    uploads += [{"file": "/etc/redis/tls/redis.key", "content": secret(PEM_KEY)},
                {"file": "/etc/redis/tls/redis.crt", "content": "-----BEGIN CERTIFICATE-----\n"}]
    # Sentinel through the core's shared launcher (seeded once, secrets re-included), as the Docker backend runs it.
    command = (["sh", "-c", sentinel_launch(Paths(), "redis-sentinel")] if sentinel
               else ["redis-server", "/etc/redis/redis.conf"])
    port = 26379 if sentinel else 6379
    return _apply({
        "image": "redis:7.2-alpine", "name": f"redis-{role}", "command": command, "uploads": uploads,
        "memory": 128 if sentinel else 512, "user": "999:1000", "restart": "unless-stopped",
        "ports": [{"internal": port, "external": port, "ip": "127.0.0.1", "protocol": "tcp"}],
        "envs": ["TZ=UTC"], "healthcheck": {"tests": ["CMD-SHELL", "redis-cli --tls --askpass PING < /etc/redis/secrets.conf"]},
    }, overrides)


def configmap(text: str, name: str = "redis-config", key: str = "redis.conf") -> dict[str, Any]:
    """A ConfigMap carrying a config file."""
    return {"metadata": {"name": name, "namespace": "redis"}, "data": {key: text}}


def redis_container(**overrides: Any) -> dict[str, Any]:
    """A hardened Redis container spec reading its config from a mounted ConfigMap."""
    return _apply({
        "name": "redis", "image": "redis:7.2", "args": ["/etc/redis/redis.conf"],
        "ports": [{"containerPort": 6379, "name": "redis"}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 999, "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/redis"}, {"name": "data", "mountPath": "/data"}],
        "env": [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis", "key": "password"}}}],
    }, overrides)


def workload(container: dict[str, Any] | None = None, kind: str = "StatefulSet", **pod: Any) -> dict[str, Any]:
    """A StatefulSet/Deployment with one Redis container and a ConfigMap volume."""
    spec = _apply({"containers": [container or redis_container()],
                   "volumes": [{"name": "config", "configMap": {"name": "redis-config"}}],
                   "securityContext": {"fsGroup": 1000}}, pod)
    return {"metadata": {"name": "redis", "namespace": "redis"},
            "spec": {"replicas": 3, "serviceName": "redis", "template": {"spec": spec}}}


def user_data(conf: str) -> str:
    """An EC2 user-data script: writes the rendered config, fetches the secret files from SSM at boot."""
    return ("#!/bin/bash\nset -euo pipefail\ndnf install -y redis7\ncat > /etc/redis/redis.conf <<'EOF'\n" + conf +
            "EOF\naws ssm get-parameter --with-decryption --name /redis/secrets.conf --query Parameter.Value "
            "--output text > /etc/redis/secrets.conf\n"
            "aws ssm get-parameter --with-decryption --name /redis/users.acl --query Parameter.Value "
            "--output text > /etc/redis/users.acl\nsystemctl enable --now redis\n")


def ec2_instance(**overrides: Any) -> dict[str, Any]:
    """An instance that runs the rendered replica config, IMDSv2 required."""
    conf, _ = rendered("replica")
    return _apply({"ami": "ami-0abc", "instanceType": "r7g.large", "userData": user_data(conf),
                   "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
                   "tags": {"Name": "redis-0"}}, overrides)


def security_group(*ingress: dict[str, Any]) -> dict[str, Any]:
    """A security group with the given ingress blocks."""
    return {"vpcId": "vpc-0abc", "ingress": list(ingress)}
