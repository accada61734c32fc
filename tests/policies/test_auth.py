"""redis-auth-required: ElastiCache token / RBAC; requirepass or ACL users on every node and Sentinel."""
from __future__ import annotations

import pytest

from .builders import (
    PASSWORD,
    CACHE_CLUSTER, CONFIGMAP, CONTAINER, EC2, RG, SERVERLESS, STATEFULSET, DROP, UNKNOWN, configmap, docker_container, ec2_instance,
    redis_container, rendered, replication_group, secret, serverless_cache, user_data, workload,
)
from .conftest import Judge, messages

POLICY = "redis-auth-required"


def test_elasticache(judge: Judge) -> None:
    assert judge(RG, replication_group(), POLICY) == []
    assert judge(RG, replication_group(authToken=DROP, userGroupIds=["app-users"]), POLICY) == []
    assert "neither authToken nor userGroupIds" in messages(judge(RG, replication_group(authToken=DROP), POLICY))
    assert "neither" in messages(judge(RG, replication_group(authToken=DROP, userGroupIds=[]), POLICY))


@pytest.mark.parametrize("role", ["primary", "replica", "sentinel"])
def test_docker_rendered_nodes_pass(judge: Judge, role: str) -> None:
    """redis-infra's nodes authenticate through users.acl / included secret files uploaded as secrets."""
    assert judge(CONTAINER, docker_container(role), POLICY) == []


def test_docker_acl_file_with_open_default_user_fails(judge: Judge) -> None:
    props = docker_container()
    acl = next(u for u in props["uploads"] if u["file"].endswith("users.acl"))
    acl["content"] = secret("user default on nopass ~* &* +@all\n")
    assert "default` user is on without a password" in messages(judge(CONTAINER, props, POLICY))


def test_docker_acl_file_without_default_user_fails(judge: Judge) -> None:
    """Redis creates `default` (nopass) when the ACL file does not define it."""
    props = docker_container()
    acl = next(u for u in props["uploads"] if u["file"].endswith("users.acl"))
    acl["content"] = secret("user app on #" + "a" * 64 + " ~* +@all\n")
    assert "does not define the `default` user" in messages(judge(CONTAINER, props, POLICY))


def test_docker_sentinel_without_password_fails(judge: Judge) -> None:
    # A hand-made wrapper that seeds by `cp` and includes nothing (the shared launcher always re-includes the secrets
    # file: see the next test).
    props = docker_container("sentinel", command=["sh", "-c", "[ -f /data/sentinel.conf ] || cp /etc/redis/sentinel.conf "
                                                              "/data/sentinel.conf; exec redis-sentinel /data/sentinel.conf"])
    props["uploads"] = [u for u in props["uploads"] if not u["file"].endswith("sentinel-secrets.conf")]
    props["uploads"][0]["content"] = props["uploads"][0]["content"].replace("include /etc/redis/sentinel-secrets.conf", "")
    found = messages(judge(CONTAINER, props, POLICY))
    assert "Sentinel accepts unauthenticated clients" in found and "sentinel auth-pass" in found


def test_requirepass_empty_fails_everywhere(judge: Judge) -> None:
    assert "disables authentication" in messages(judge(CONTAINER, {"image": "redis:7.2", "command": [
        "redis-server", "--requirepass", ""]}, POLICY))


def test_raw_container_fails(judge: Judge) -> None:
    assert "accepts unauthenticated clients" in messages(judge(CONTAINER, {"image": "redis:7.2"}, POLICY))


def test_file_not_carried_is_no_verdict(judge: Judge) -> None:
    """An aclfile / include on a volume the resource does not carry: no false violation."""
    props = docker_container()
    props["uploads"] = [u for u in props["uploads"] if not u["file"].endswith(("users.acl", "secrets.conf"))]
    assert judge(CONTAINER, props, POLICY) == []


def test_kubernetes(judge: Judge) -> None:
    conf, _ = rendered("replica")
    assert judge(CONFIGMAP, configmap(conf), POLICY) == []  # aclfile from a Secret volume
    open_conf = conf.replace("aclfile /etc/redis/users.acl", "").replace("include /etc/redis/secrets.conf", "")
    assert "no `requirepass` and no ACL users" in messages(judge(CONFIGMAP, configmap(open_conf), POLICY))
    assert judge(STATEFULSET, workload(), POLICY) == []
    assert "accepts unauthenticated" in messages(judge(STATEFULSET, workload(redis_container(args=DROP)), POLICY))


def test_ec2(judge: Judge) -> None:
    conf, _ = rendered("replica")
    assert judge(EC2, ec2_instance(), POLICY) == []
    open_conf = conf.replace("aclfile /etc/redis/users.acl", "").replace("include /etc/redis/secrets.conf", "")
    assert "no `requirepass`" in messages(judge(EC2, ec2_instance(userData=user_data(open_conf)), POLICY))


def test_unknown_token_is_no_verdict(judge: Judge) -> None:
    """A token computed by another resource is unknown during preview: it will be set."""
    assert judge(RG, replication_group(authToken=UNKNOWN), POLICY) == []
    assert judge(RG, replication_group(authToken=DROP, userGroupIds=UNKNOWN), POLICY) == []


@pytest.mark.parametrize("token", [secret(PASSWORD), PASSWORD, UNKNOWN, secret(UNKNOWN)],
                         ids=["secret", "plain", "unknown", "unknown-secret"])
def test_write_only_token_counts(judge: Judge, token: object) -> None:
    """pulumi-aws v7's write-only `authTokenWo` (+ `authTokenWoVersion`) authenticates like `authToken`."""
    group = replication_group(authToken=DROP, authTokenWo=token, authTokenWoVersion=1)
    assert judge(RG, group, POLICY) == []


def test_write_only_token_empty_fails(judge: Judge) -> None:
    assert "neither authToken" in messages(judge(RG, replication_group(authToken=DROP, authTokenWo=""), POLICY))


def test_serverless_needs_a_user_group(judge: Judge) -> None:
    assert judge(SERVERLESS, serverless_cache(), POLICY) == []
    assert judge(SERVERLESS, serverless_cache(userGroupId=UNKNOWN), POLICY) == []
    assert "no userGroupId" in messages(judge(SERVERLESS, serverless_cache(userGroupId=DROP), POLICY))
    assert "no userGroupId" in messages(judge(SERVERLESS, serverless_cache(userGroupId=""), POLICY))


def test_bare_cache_cluster_node_fails(judge: Judge) -> None:
    """A redis/valkey aws.elasticache.Cluster outside a replication group cannot require AUTH."""
    node = {"clusterId": "cache-0", "engine": "redis", "engineVersion": "7.1", "nodeType": "cache.t4g.micro",
            "numCacheNodes": 1}
    assert "replication group" in messages(judge(CACHE_CLUSTER, node, POLICY))
    assert "replication group" in messages(judge(CACHE_CLUSTER, dict(node, engine="valkey"), POLICY))
    assert judge(CACHE_CLUSTER, {"clusterId": "cache-1", "replicationGroupId": "cache"}, POLICY) == []
    assert judge(CACHE_CLUSTER, dict(node, engine="memcached"), POLICY) == []
    assert judge(CACHE_CLUSTER, dict(node, engine=UNKNOWN), POLICY) == []
    assert judge(CACHE_CLUSTER, dict(node, replicationGroupId=UNKNOWN), POLICY) == []


def test_docker_sentinel_launcher_reincludes_the_secrets(judge: Judge) -> None:
    """The shared launcher strips `requirepass`/`include` lines from the state file and re-includes the secrets file:
    the pack follows that include, so a secrets file without `requirepass` is still caught."""
    props = docker_container("sentinel")
    assert "echo 'include /etc/redis/sentinel-secrets.conf' >>" in props["command"][2]
    assert judge(CONTAINER, props, POLICY) == []
    secrets = next(u for u in props["uploads"] if u["file"].endswith("sentinel-secrets.conf"))
    secrets["content"] = secret("# rotated away\n")
    assert "Sentinel accepts unauthenticated clients" in messages(judge(CONTAINER, props, POLICY))
