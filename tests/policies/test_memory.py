"""redis-maxmemory and redis-maxmemory-headroom."""
from __future__ import annotations

from redisinfra.analyzer import PolicyPack

from .builders import (
    CONFIGMAP, CONTAINER, EC2, PG, RG, STATEFULSET, DROP, configmap, docker_container, ec2_instance,
    redis_container, rendered, replication_group, parameter_group, resource, user_data, workload,
)
from .conftest import Judge, messages

POLICY = "redis-maxmemory"


def test_elasticache(judge: Judge) -> None:
    assert judge(RG, replication_group(), POLICY) == []
    assert "default parameter group" in messages(judge(RG, replication_group(parameterGroupName=DROP), POLICY))
    assert "default parameter group" in messages(judge(RG, replication_group(parameterGroupName="default.redis7"), POLICY))
    assert judge(PG, parameter_group(), POLICY) == []
    assert "does not set maxmemory-policy" in messages(judge(PG, parameter_group(parameters=[]), POLICY))
    low = parameter_group(parameters=[{"name": "maxmemory-policy", "value": "allkeys-lru"},
                                      {"name": "reserved-memory-percent", "value": "5"}])
    assert "reserved-memory-percent 5" in messages(judge(PG, low, POLICY))
    assert judge(PG, {"family": "memcached1.6", "parameters": []}, POLICY) == []


def test_allowed_policies_are_stack_config(pack: PolicyPack) -> None:
    pack.configure({POLICY: {"allowedPolicies": ["noeviction"]}})
    found = [d for d in pack.analyze(resource(PG, parameter_group())) if d.policy == POLICY]
    assert "'volatile-lru' is not allowed (allowed: noeviction)" in messages(found)
    conf, _ = rendered("replica")
    found = [d for d in pack.analyze(resource(CONTAINER, docker_container())) if d.policy == POLICY]
    assert "`maxmemory-policy volatile-lru` is not allowed" in messages(found)


def test_docker(judge: Judge) -> None:
    assert judge(CONTAINER, docker_container(), POLICY) == []
    assert judge(CONTAINER, docker_container("sentinel"), POLICY) == []  # Sentinel holds no data
    small = docker_container(memory=400)  # 384 MiB maxmemory in a 400 MiB container: no fork headroom
    assert "above 75% of the 419430400-byte memory limit" in messages(judge(CONTAINER, small, POLICY))
    assert "no memory limit" in messages(judge(CONTAINER, docker_container(memory=DROP), POLICY))
    props = docker_container()
    props["uploads"][0]["content"] = props["uploads"][0]["content"].replace("maxmemory 402653184", "maxmemory 0")
    assert "`maxmemory 0` means unlimited" in messages(judge(CONTAINER, props, POLICY))


def test_share_is_stack_config(pack: PolicyPack) -> None:
    pack.configure({POLICY: {"maxMemoryShare": 0.5}})
    found = [d for d in pack.analyze(resource(CONTAINER, docker_container())) if d.policy == POLICY]
    assert "above 50%" in messages(found)


def test_kubernetes(judge: Judge) -> None:
    conf, _ = rendered("replica")
    assert judge(CONFIGMAP, configmap(conf), POLICY) == []
    no_limit = conf.replace("maxmemory 402653184\n", "")
    assert judge(CONFIGMAP, configmap(no_limit), POLICY) == []  # may be in the included file: no verdict
    visible = no_limit.replace("include /etc/redis/secrets.conf", "").replace("aclfile /etc/redis/users.acl", "")
    assert "no `maxmemory`" in messages(judge(CONFIGMAP, configmap(visible), POLICY))
    assert judge(STATEFULSET, workload(), POLICY) == []
    unlimited = workload(redis_container(resources={"requests": {"cpu": "1"}}))
    assert "no resources.limits.memory" in messages(judge(STATEFULSET, unlimited, POLICY))


def test_kubernetes_headroom_across_resources(pack: PolicyPack) -> None:
    """Stack policy: the ConfigMap's maxmemory against the limit of the container that mounts it."""
    conf, _ = rendered("replica")  # maxmemory 384 MiB
    cm = resource(CONFIGMAP, configmap(conf), "redis-config")
    fits = resource(STATEFULSET, workload(), "redis")
    assert [d for d in pack.analyze_stack([cm, fits]) if d.policy == "redis-maxmemory-headroom"] == []
    tight = resource(STATEFULSET, workload(redis_container(resources={"requests": {"cpu": "1"},
                                                                        "limits": {"memory": "400Mi"}})), "redis")
    found = [d for d in pack.analyze_stack([cm, tight]) if d.policy == "redis-maxmemory-headroom"]
    assert len(found) == 1 and found[0].urn == tight.urn and "ConfigMap redis-config" in found[0].detail


def test_ec2(judge: Judge) -> None:
    assert judge(EC2, ec2_instance(), POLICY) == []
    conf, _ = rendered("replica")
    huge = conf.replace("maxmemory 402653184", "maxmemory 15gb")
    assert "above 75%" in messages(judge(EC2, ec2_instance(userData=user_data(huge)), POLICY))  # r7g.large: 16 GiB


def test_headroom_stack_policy_with_unknowns_and_secrets(pack: PolicyPack) -> None:
    """Unknown volume sources or limits give no verdict; a Secret-carried config is linked like a ConfigMap."""
    import base64
    from .builders import UNKNOWN
    conf, _ = rendered("replica")
    tight = redis_container(resources={"requests": {"cpu": "1"}, "limits": {"memory": "400Mi"}})
    unknown_volume = resource(STATEFULSET, workload(tight, volumes=[{"name": "config", "configMap": UNKNOWN}]), "redis")
    cm = resource(CONFIGMAP, configmap(conf), "redis-config")
    assert [d for d in pack.analyze_stack([cm, unknown_volume]) if d.policy == "redis-maxmemory-headroom"] == []
    secret_cm = resource("kubernetes:core/v1:Secret", {"metadata": {"name": "redis-secret"},
                                                        "data": {"redis.conf": base64.b64encode(conf.encode()).decode()}})
    by_secret = resource(STATEFULSET, workload(tight, volumes=[{"name": "config", "secret": {"secretName": "redis-secret"}}]))
    found = [d for d in pack.analyze_stack([secret_cm, by_secret]) if d.policy == "redis-maxmemory-headroom"]
    assert len(found) == 1 and "mounts Secret redis-secret" in found[0].detail
