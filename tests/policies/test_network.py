"""redis-no-public-ingress, redis-docker-loopback-only, redis-kubernetes-no-loadbalancer."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PolicyPack

from .builders import CONTAINER, INGRESS, SERVICE, SG, SG_RULE, UNKNOWN, docker_container, resource, security_group
from .conftest import Judge, messages


@pytest.mark.parametrize("block, needle", [
    ({"protocol": "tcp", "fromPort": 6379, "toPort": 6379, "cidrBlocks": ["0.0.0.0/0"]}, "6379 to 0.0.0.0/0"),
    ({"protocol": "tcp", "fromPort": 6000, "toPort": 7000, "ipv6CidrBlocks": ["::/0"]}, "6379, 6380 to ::/0"),
    ({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, "6379, 6380, 16379, 26379"),
])
def test_security_group_fails(judge: Judge, block: dict, needle: str) -> None:
    assert needle in messages(judge(SG, security_group(block), "redis-no-public-ingress"))


def test_security_group_passes(judge: Judge) -> None:
    policy = "redis-no-public-ingress"
    private = {"protocol": "tcp", "fromPort": 6379, "toPort": 6379, "cidrBlocks": ["10.0.0.0/16"]}
    https = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
    by_group = {"protocol": "tcp", "fromPort": 6379, "toPort": 6379, "securityGroups": ["sg-app"]}
    assert judge(SG, security_group(private, https, by_group), policy) == []
    unknown = {"protocol": "tcp", "fromPort": UNKNOWN, "toPort": UNKNOWN, "cidrBlocks": ["0.0.0.0/0"]}
    assert judge(SG, security_group(unknown), policy) == []


def test_rules(judge: Judge) -> None:
    policy = "redis-no-public-ingress"
    rule = {"type": "ingress", "protocol": "tcp", "fromPort": 26379, "toPort": 26379, "cidrBlocks": ["0.0.0.0/0"],
            "securityGroupId": "sg-1"}
    assert "26379" in messages(judge(SG_RULE, rule, policy))
    assert judge(SG_RULE, dict(rule, type="egress"), policy) == []
    v6 = {"ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379, "cidrIpv6": "::/0", "securityGroupId": "sg-1"}
    assert "::/0" in messages(judge(INGRESS, v6, policy))
    from_group = {"ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379, "referencedSecurityGroupId": "sg-app",
                  "securityGroupId": "sg-1"}
    assert judge(INGRESS, from_group, policy) == []


def test_ports_are_stack_config(pack: PolicyPack) -> None:
    pack.configure({"redis-no-public-ingress": {"ports": [7000]}})
    block = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"]}
    assert [d for d in pack.analyze(resource(SG, security_group(block))) if d.policy == "redis-no-public-ingress"]


def test_docker_loopback(judge: Judge) -> None:
    policy = "redis-docker-loopback-only"
    assert judge(CONTAINER, docker_container(), policy) == []
    wide = docker_container(ports=[{"internal": 6379, "external": 6379}])
    assert "published on 0.0.0.0" in messages(judge(CONTAINER, wide, policy))
    assert "networkMode 'host'" in messages(judge(CONTAINER, docker_container(networkMode="host", ports=[]), policy))
    # A network-namespace holder publishing the Redis nodes' ports is judged like Redis itself.
    anchor = {"image": "alpine:3.20", "ports": [{"internal": 6381, "external": 6381, "ip": "0.0.0.0"}]}
    assert "6381" in messages(judge(CONTAINER, anchor, policy))
    web = {"image": "nginx:1.27", "ports": [{"internal": 80, "external": 80}]}
    assert judge(CONTAINER, web, policy) == []
    assert judge(CONTAINER, docker_container(ports=[{"internal": 6379, "ip": UNKNOWN}]), policy) == []


@pytest.mark.parametrize("kind", ["LoadBalancer", "NodePort"])
def test_kubernetes_service(judge: Judge, kind: str) -> None:
    policy = "redis-kubernetes-no-loadbalancer"
    service = {"metadata": {"name": "cache"}, "spec": {"type": kind, "ports": [{"port": 6379, "targetPort": 6379}]}}
    assert f"Service type {kind}" in messages(judge(SERVICE, service, policy))
    internal = {"metadata": {"name": "cache"}, "spec": {"type": "ClusterIP", "ports": [{"port": 6379}]}}
    assert judge(SERVICE, internal, policy) == []
    web = {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
    assert judge(SERVICE, web, policy) == []


def test_docker_publish_all_ports(judge: Judge) -> None:
    """`publishAllPorts: true` publishes every exposed port (6379 for the redis image) on 0.0.0.0."""
    policy = "redis-docker-loopback-only"
    found = messages(judge(CONTAINER, docker_container(publishAllPorts=True), policy))
    assert "publishAllPorts" in found and "0.0.0.0" in found
    assert "publishAllPorts" in messages(judge(CONTAINER, {"image": "valkey/valkey:8.0", "publishAllPorts": True}, policy))
    assert judge(CONTAINER, docker_container(publishAllPorts=False), policy) == []
    assert judge(CONTAINER, docker_container(publishAllPorts=UNKNOWN), policy) == []
    assert judge(CONTAINER, {"image": "nginx:1.27", "publishAllPorts": True}, policy) == []
