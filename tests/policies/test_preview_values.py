"""Preview-time unknowns and secret inputs across every resource kind: no crash, no false verdict, no leak."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PolicyPack

from .builders import (
    CONFIGMAP, CONTAINER, EC2, PASSWORD, RG, STATEFULSET, UNKNOWN, configmap, docker_container, ec2_instance,
    redis_container, rendered, replication_group, resource, secret, user_data, workload,
)
from .conftest import Judge, messages


def _unknown_upload(props: dict, suffix: str) -> dict:
    for upload in props["uploads"]:
        if upload["file"].endswith(suffix):
            upload["content"] = UNKNOWN
    return props


@pytest.mark.parametrize("type_, props", [
    (CONTAINER, docker_container(uploads=UNKNOWN)),
    (CONTAINER, docker_container(command=UNKNOWN)),
    (CONTAINER, _unknown_upload(docker_container(), "redis.conf")),
    (CONTAINER, _unknown_upload(docker_container("sentinel"), "sentinel.conf")),
    (CONTAINER, docker_container(memory=UNKNOWN, image=UNKNOWN)),
    (STATEFULSET, workload(redis_container(args=UNKNOWN, resources=UNKNOWN, securityContext=UNKNOWN))),
    (STATEFULSET, {"metadata": {"name": "redis"}, "spec": UNKNOWN}),
    (CONFIGMAP, {"metadata": {"name": "redis-config"}, "data": {"redis.conf": UNKNOWN}}),
    (CONFIGMAP, {"metadata": {"name": "redis-config"}, "data": UNKNOWN}),
    (EC2, ec2_instance(userData=UNKNOWN)),
    (EC2, ec2_instance(instanceType=UNKNOWN)),
    (RG, replication_group(transitEncryptionEnabled=UNKNOWN, authToken=UNKNOWN)),
])
def test_unknowns_give_no_violation(judge: Judge, type_: str, props: dict) -> None:
    assert judge(type_, props) == [], "an unknown preview value must not turn into a violation"


def test_generated_password_file_unknown_at_preview(judge: Judge) -> None:
    """The secret files hold generated passwords, unknown during a real preview: the other checks still run."""
    props = _unknown_upload(docker_container(), "secrets.conf")
    props = _unknown_upload(props, "users.acl")
    assert judge(CONTAINER, props) == []
    props["uploads"][0]["content"] = props["uploads"][0]["content"].replace("port 0\n", "port 6379\n")
    assert [d.policy for d in judge(CONTAINER, props)] == ["redis-tls-in-transit"]


def test_unknown_inside_a_secret(judge: Judge) -> None:
    """A secret whose value is not known yet (a token from random.RandomPassword during preview)."""
    assert judge(RG, replication_group(authToken=secret(UNKNOWN))) == []


def test_secret_inputs_everywhere_do_not_leak(judge: Judge) -> None:
    """Secret-marked inputs are read (so the checks work) but never echoed in a message."""
    conf, secret_files = rendered("replica")
    leaked = configmap(conf + secret_files["secrets.conf"])
    cases = [
        (RG, replication_group(authToken=PASSWORD, transitEncryptionEnabled=False)),
        (CONFIGMAP, leaked),
        (STATEFULSET, workload(redis_container(env=[{"name": "REDIS_PASSWORD", "value": PASSWORD}]))),
        (CONTAINER, docker_container(envs=[f"REDIS_PASSWORD={PASSWORD}"], command=["redis-server", "--requirepass",
                                                                                 secret(PASSWORD)])),
    ]
    for type_, props in cases:
        found = judge(type_, props)
        assert found, type_
        assert PASSWORD not in messages(found)


def test_whole_secret_config_file_is_judged(judge: Judge) -> None:
    """A config uploaded entirely as a secret is still read: secrecy must not hide a plaintext port."""
    props = docker_container()
    props["uploads"][0]["content"] = secret(props["uploads"][0]["content"].replace("port 0\n", "port 6379\n"))
    assert [d.policy for d in judge(CONTAINER, props)] == ["redis-tls-in-transit"]


def test_dry_run_flag_does_not_change_verdicts() -> None:
    """`pulumi up` (dry_run false) and preview judge the same inputs the same way."""
    with PolicyPack(stack="up", dry_run=False) as pack:
        pack.configure({})
        found = pack.analyze(resource(RG, replication_group(transitEncryptionEnabled=False)))
        assert [d.policy for d in found] == ["redis-tls-in-transit"]


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    """Every path to a value (subtrees and leaves), skipping secret wrappers' internals."""
    out = [path] if path else []
    if isinstance(value, dict):
        if "4dabf18193072939515e22adb298388d" in value:
            return out
        for key, child in value.items():
            out += _paths(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, path + (i,))
    return out


def _with_unknown(props: dict, path: tuple) -> dict:
    import copy
    out = copy.deepcopy(props)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = UNKNOWN
    return out


SECURE = [
    (RG, replication_group()),
    (CONTAINER, docker_container("replica")),
    (CONTAINER, docker_container("sentinel")),
    (STATEFULSET, workload()),
    (CONFIGMAP, configmap(rendered("replica")[0])),
    (EC2, ec2_instance()),
    ("aws:ec2/launchTemplate:LaunchTemplate", {"instanceType": "r7g.large", "userData": user_data(rendered()[0]),
                                               "metadataOptions": {"httpTokens": "required"}}),
    ("kubernetes:core/v1:Secret", {"metadata": {"name": "r"}, "stringData": {"redis.conf": rendered()[0]}}),
    ("kubernetes:core/v1:Service", {"metadata": {"name": "redis"}, "spec": {"type": "ClusterIP", "ports": [
        {"port": 6379, "targetPort": 6379, "name": "redis"}]}}),
    ("aws:ec2/securityGroup:SecurityGroup", {"ingress": [{"protocol": "tcp", "fromPort": 6379, "toPort": 6379,
                                                          "cidrBlocks": ["10.0.0.0/8"], "ipv6CidrBlocks": []}]}),
]


@pytest.mark.parametrize("type_, props", SECURE, ids=lambda v: v if isinstance(v, str) else "")
def test_any_value_unknown_never_crashes_or_flags_a_secure_resource(pack: PolicyPack, type_: str, props: dict) -> None:
    """Exhaustive: each input (leaf or subtree) of a passing resource replaced by the engine's unknown marker."""
    paths = _paths(props)
    assert len(paths) >= 4
    for path in paths:
        found = pack.analyze(resource(type_, _with_unknown(props, path)))
        assert found == [], f"{type_} with {'.'.join(map(str, path))} unknown: {messages(found)}"


def _with_secret(props: dict, path: tuple) -> dict:
    import copy
    out = copy.deepcopy(props)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = secret(target[path[-1]])
    return out


@pytest.mark.parametrize("type_, props", SECURE, ids=lambda v: v if isinstance(v, str) else "")
def test_any_value_secret_keeps_a_secure_resource_passing(pack: PolicyPack, type_: str, props: dict) -> None:
    """Exhaustive: each input wrapped as a Pulumi secret is still read as its value."""
    for path in _paths(props):
        found = pack.analyze(resource(type_, _with_secret(props, path)))
        assert found == [], f"{type_} with {'.'.join(map(str, path))} secret: {messages(found)}"


INSECURE = [
    (RG, replication_group(transitEncryptionEnabled=False, authToken=PASSWORD, snapshotRetentionLimit=0)),
    (CONTAINER, {"image": "redis:latest", "command": ["redis-server", "--requirepass", PASSWORD],
                 "envs": [f"REDIS_PASSWORD={PASSWORD}"], "ports": [{"internal": 6379, "external": 6379}]}),
    (STATEFULSET, workload(redis_container(args=["--port", "6379"], securityContext={}, resources={},
                                           env=[{"name": "REDIS_PASSWORD", "value": PASSWORD}]))),
    (CONFIGMAP, configmap("port 6379\nrequirepass " + PASSWORD + "\n")),
    (EC2, ec2_instance(userData="#!/bin/sh\nredis-server --port 6379 --requirepass " + PASSWORD + "\n",
                       metadataOptions={})),
    ("kubernetes:core/v1:Service", {"metadata": {"name": "redis"}, "spec": {"type": "LoadBalancer", "ports": [
        {"port": 6379, "name": "redis"}]}}),
    ("aws:ec2/securityGroup:SecurityGroup", {"ingress": [{"protocol": "tcp", "fromPort": 6379, "toPort": 6379,
                                                          "cidrBlocks": ["0.0.0.0/0"]}]}),
    ("aws:elasticache/parameterGroup:ParameterGroup", {"family": "redis7", "parameters": [
        {"name": "maxmemory-policy", "value": "bogus"}]}),
]


@pytest.mark.parametrize("type_, props", INSECURE, ids=lambda v: v if isinstance(v, str) else "")
def test_any_value_unknown_or_secret_never_crashes_an_insecure_resource(pack: PolicyPack, type_: str,
                                                                         props: dict) -> None:
    """Exhaustive on failing resources: unknowns and secrets anywhere never crash the pack or leak a value."""
    assert pack.analyze(resource(type_, props)), "the baseline must fail"
    for path in _paths(props):
        for variant in (_with_unknown(props, path), _with_secret(props, path)):
            assert PASSWORD not in messages(pack.analyze(resource(type_, variant)))
