"""redis-tls-in-transit: a passing and a failing resource per backend, plus what the policy must not flag."""
from __future__ import annotations

import pytest

from .builders import (
    CACHE_CLUSTER, SERVERLESS, UNKNOWN, serverless_cache,
    CONFIGMAP, CONTAINER, DEPLOYMENT, EC2, RG, STATEFULSET, DROP, configmap, docker_container, ec2_instance,
    redis_container, rendered, replication_group, user_data, workload,
)
from .conftest import Judge, messages

POLICY = "redis-tls-in-transit"


def _plain(conf: str) -> str:
    """The same config with TLS turned off the way people do it."""
    return conf.replace("port 0\n", "").replace("tls-port", "port")


def test_elasticache(judge: Judge) -> None:
    assert judge(RG, replication_group(), POLICY) == []
    assert "transitEncryptionEnabled is off" in messages(judge(RG, replication_group(transitEncryptionEnabled=False), POLICY))
    assert "is off" in messages(judge(RG, replication_group(transitEncryptionEnabled=DROP, transitEncryptionMode=DROP), POLICY))
    assert "'preferred'" in messages(judge(RG, replication_group(transitEncryptionMode="preferred"), POLICY))
    # No mode given with encryption on: AWS creates the group in 'required' mode.
    assert judge(RG, replication_group(transitEncryptionMode=DROP), POLICY) == []


@pytest.mark.parametrize("role", ["primary", "replica", "sentinel"])
def test_docker_rendered_config_passes(judge: Judge, role: str) -> None:
    assert judge(CONTAINER, docker_container(role), POLICY) == []


def test_docker_plaintext_port_fails(judge: Judge) -> None:
    conf, _ = rendered("replica")
    props = docker_container()
    props["uploads"][0]["content"] = conf.replace("port 0\n", "port 6379\n")
    assert "plaintext `port 6379` is open" in messages(judge(CONTAINER, props, POLICY))


def test_docker_replication_without_tls_fails(judge: Judge) -> None:
    conf, _ = rendered("replica")
    props = docker_container()
    props["uploads"][0]["content"] = conf.replace("tls-replication yes", "tls-replication no")
    assert "tls-replication" in messages(judge(CONTAINER, props, POLICY))


_CP_SEED = ["sh", "-c", "[ -f /data/sentinel.conf ] || cp /etc/redis/sentinel.conf /data/sentinel.conf; "
                        "exec redis-sentinel /data/sentinel.conf"]


@pytest.mark.parametrize("launch", ["shared-launcher", "cp"])
def test_docker_sentinel_seed_is_what_is_judged(judge: Judge, launch: str) -> None:
    """Sentinel runs from /data/sentinel.conf seeded from the upload (the core's launcher: `cat seed > state`, secret
    lines stripped, secrets re-included; or a plain `cp`): the upload decides."""
    props = docker_container("sentinel") if launch == "shared-launcher" else docker_container("sentinel", command=_CP_SEED)
    assert judge(CONTAINER, props, POLICY) == []
    props["uploads"][0]["content"] = _plain(props["uploads"][0]["content"])
    assert "Sentinel in container is not TLS-only" in messages(judge(CONTAINER, props, POLICY))


def test_docker_command_line_options_count(judge: Judge) -> None:
    """`redis-server --port 6379` on the command line overrides nothing secure: it is the config."""
    props = {"image": "redis:7.2", "command": ["redis-server", "--port", "6379", "--maxmemory", "100mb"], "memory": 512}
    assert "plaintext `port 6379`" in messages(judge(CONTAINER, props, POLICY))
    ok = {"image": "redis:7.2", "command": ["redis-server", "--port", "0", "--tls-port", "6379", "--tls-cert-file",
                                            "/tls/c", "--tls-key-file", "/tls/k"], "memory": 512}
    assert judge(CONTAINER, ok, POLICY) == []


def test_raw_container_with_default_config_fails(judge: Judge) -> None:
    """A bare redis image runs with built-in defaults: plaintext 6379."""
    assert "plaintext port 6379 is open by default" in messages(judge(CONTAINER, {"image": "valkey/valkey:8.0"}, POLICY))


def test_not_a_server_is_not_judged(judge: Judge) -> None:
    """A one-shot job in a Redis image (cluster join, backup) runs no server: nothing to judge."""
    job = {"image": "redis:7.2", "command": ["sh", "/etc/redis/cluster-join.sh"]}
    assert judge(CONTAINER, job, POLICY) == []
    other = {"image": "nginx:1.27", "ports": [{"internal": 80, "external": 8080}]}
    assert judge(CONTAINER, other, POLICY) == []


def test_kubernetes_configmap(judge: Judge) -> None:
    conf, _ = rendered("replica")
    assert judge(CONFIGMAP, configmap(conf), POLICY) == []
    assert "plaintext" in messages(judge(CONFIGMAP, configmap(_plain(conf)), POLICY))
    cluster = conf.replace("tls-replication yes", "tls-replication yes\ncluster-enabled yes")
    # The config includes files from a Secret volume: a directive missing here may live there (no verdict) ...
    assert judge(CONFIGMAP, configmap(cluster), POLICY) == []
    # ... but with the whole config visible, the plaintext cluster bus is a violation.
    visible = cluster.replace("include /etc/redis/secrets.conf", "").replace("aclfile /etc/redis/users.acl", "")
    assert "tls-cluster yes" in messages(judge(CONFIGMAP, configmap(visible), POLICY))
    assert "tls-cluster` is off" in messages(judge(CONFIGMAP, configmap(cluster + "tls-cluster no\n"), POLICY))


@pytest.mark.parametrize("kind", [STATEFULSET, DEPLOYMENT])
def test_kubernetes_workload(judge: Judge, kind: str) -> None:
    """A workload mounting its config defers to the ConfigMap; one configured by args is judged itself."""
    assert judge(kind, workload(), POLICY) == []
    by_args = workload(redis_container(args=["--port", "6379", "--requirepass", "$(REDIS_PASSWORD)"]))
    assert "plaintext `port 6379`" in messages(judge(kind, by_args, POLICY))
    bare = workload(redis_container(args=DROP))
    assert "plaintext port 6379 is open by default" in messages(judge(kind, bare, POLICY))


def test_ec2_user_data(judge: Judge) -> None:
    conf, _ = rendered("replica")
    assert judge(EC2, ec2_instance(), POLICY) == []
    assert "plaintext" in messages(judge(EC2, ec2_instance(userData=user_data(_plain(conf))), POLICY))
    unrelated = {"ami": "ami-1", "instanceType": "t3.micro", "userData": "#!/bin/sh\nyum install -y nginx\n"}
    assert judge(EC2, unrelated, POLICY) == []


def test_kubernetes_secret_carrying_the_config(judge: Judge) -> None:
    """Some charts ship redis.conf in a Secret (stringData or base64 data): judged like a ConfigMap."""
    import base64
    conf, _ = rendered("replica")
    secret_type = "kubernetes:core/v1:Secret"
    assert judge(secret_type, {"metadata": {"name": "r"}, "stringData": {"redis.conf": conf}}, POLICY) == []
    encoded = base64.b64encode(_plain(conf).encode()).decode()
    assert "Redis in Secret data.redis.conf is not TLS-only" in messages(
        judge(secret_type, {"metadata": {"name": "r"}, "data": {"redis.conf": encoded}}, POLICY))


def test_ec2_launch_template(judge: Judge) -> None:
    """Launch templates carry user data base64-encoded."""
    import base64
    conf, _ = rendered("replica")
    template = "aws:ec2/launchTemplate:LaunchTemplate"
    good = {"instanceType": "r7g.large", "userData": base64.b64encode(user_data(conf).encode()).decode(),
            "metadataOptions": {"httpTokens": "required"}}
    assert judge(template, good) == []
    bad = dict(good, userData=base64.b64encode(user_data(_plain(conf)).encode()).decode())
    assert "user data is not TLS-only" in messages(judge(template, bad, POLICY))
    assert "not 'required'" in messages(judge(template, dict(good, metadataOptions={}), "redis-ec2-imdsv2"))


def test_bare_cache_cluster_node_fails(judge: Judge) -> None:
    """A redis/valkey aws.elasticache.Cluster outside a replication group: plaintext, flagged; members are not."""
    node = {"clusterId": "cache-0", "engine": "valkey", "nodeType": "cache.t4g.micro", "numCacheNodes": 1}
    assert "outside a replication group" in messages(judge(CACHE_CLUSTER, node, POLICY))
    assert judge(CACHE_CLUSTER, {"clusterId": "cache-1", "replicationGroupId": "cache"}, POLICY) == []
    assert judge(CACHE_CLUSTER, dict(node, engine="memcached"), POLICY) == []
    assert judge(CACHE_CLUSTER, dict(node, replicationGroupId=UNKNOWN), POLICY) == []


def test_serverless_is_always_tls(judge: Judge) -> None:
    """AWS enforces TLS on every serverless cache: nothing to flag."""
    assert judge(SERVERLESS, serverless_cache(), POLICY) == []
