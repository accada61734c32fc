"""redis-no-public-ingress, redis-docker-loopback-only, redis-kubernetes-no-loadbalancer."""
from __future__ import annotations

import pytest

from redisinfra.analyzer import PolicyPack

from .builders import (
    CONTAINER, INGRESS, RG, SERVERLESS, SERVICE, SG, SG_RULE, UNKNOWN, docker_container, replication_group, resource,
    security_group, serverless_cache,
)
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


CACHE_POLICY = "redis-no-public-ingress-cache-port"


def _cache_stack(cache_type: str, cache_props: dict, *ingress: dict, rule: dict | None = None,
                 by_dependency: bool = True) -> list:
    """A security group (optionally a standalone rule) and a cache that lists it in securityGroupIds.

    As the engine does, the cache's securityGroupIds names the group through a property dependency (its id is
    unknown until it exists); `by_dependency=False` uses a literal id instead.
    """
    group = resource(SG, security_group(*ingress), "cache-sg")
    out = [group]
    if by_dependency:
        cache_props = dict(cache_props, securityGroupIds=[UNKNOWN])
    cache = resource(cache_type, cache_props, "cache")
    if by_dependency:
        cache.property_dependencies = {"securityGroupIds": [group.urn]}
    out.append(cache)
    if rule is not None:
        standalone = resource(INGRESS, rule, "cache-rule")
        if by_dependency:
            standalone.property_dependencies = {"securityGroupId": [group.urn]}
        out.append(standalone)
    return out


def _cache_findings(pack: PolicyPack, resources: list) -> list:
    return [d for d in pack.analyze_stack(resources) if d.policy == CACHE_POLICY]


@pytest.mark.parametrize("block", [
    {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"]},
    {"protocol": "tcp", "fromPort": 0, "toPort": 65535, "ipv6CidrBlocks": ["::/0"]},
    {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
])
def test_cache_port_open_to_the_world_fails(pack: PolicyPack, block: dict) -> None:
    """A replication group on a custom port (7000) behind a group that opens it to the Internet."""
    resources = _cache_stack(RG, replication_group(port=7000), block)
    found = _cache_findings(pack, resources)
    assert len(found) == 1 and found[0].urn == resources[1].urn and found[0].level == "mandatory"
    assert "port 7000" in found[0].detail and "cache-sg" in found[0].detail


def test_cache_port_private_or_other_port_passes(pack: PolicyPack) -> None:
    private = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["10.0.0.0/16"]}
    other = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
    assert _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), private, other)) == []
    # The group is open on 7000 but the cache listens on 6379 (the default when no port is given).
    open_7000 = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"]}
    assert _cache_findings(pack, _cache_stack(RG, replication_group(), open_7000)) == []
    # A group the cache does not use is not the cache's business (redis-no-public-ingress judges fixed ports).
    unrelated = _cache_stack(RG, replication_group(port=7000), open_7000)
    unrelated[1].property_dependencies = {}
    assert _cache_findings(pack, unrelated) == []


def test_cache_port_standalone_rule_and_literal_ids(pack: PolicyPack) -> None:
    rule = {"ipProtocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrIpv4": "0.0.0.0/0", "securityGroupId": UNKNOWN}
    found = _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), rule=rule))
    assert len(found) == 1 and "cache-rule" in found[0].detail
    literal = dict(rule, securityGroupId="sg-0abc")  # replication_group() lists sg-0abc
    found = _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), rule=literal, by_dependency=False))
    assert len(found) == 1 and "cache-rule" in found[0].detail
    elsewhere = dict(rule, securityGroupId="sg-other")
    assert _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), rule=elsewhere, by_dependency=False)) == []
    old_style = {"type": "ingress", "protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"],
                 "securityGroupId": "sg-0abc"}
    resources = _cache_stack(RG, replication_group(port=7000), by_dependency=False) + [resource(SG_RULE, old_style, "r")]
    assert len(_cache_findings(pack, resources)) == 1


def test_serverless_cache_ports(pack: PolicyPack) -> None:
    """Serverless listens on 6379 (and 6380 for reads)."""
    block = {"protocol": "tcp", "fromPort": 6380, "toPort": 6380, "cidrBlocks": ["0.0.0.0/0"]}
    found = _cache_findings(pack, _cache_stack(SERVERLESS, serverless_cache(), block))
    assert len(found) == 1 and "port 6380" in found[0].detail


def test_cache_port_unknowns_are_no_verdict(pack: PolicyPack) -> None:
    block = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"]}
    assert _cache_findings(pack, _cache_stack(RG, replication_group(port=UNKNOWN), block)) == []
    unknown_range = {"protocol": "tcp", "fromPort": UNKNOWN, "toPort": UNKNOWN, "cidrBlocks": ["0.0.0.0/0"]}
    assert _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), unknown_range)) == []
    unknown_cidr = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": [UNKNOWN]}
    assert _cache_findings(pack, _cache_stack(RG, replication_group(port=7000), unknown_cidr)) == []


def test_cache_port_levels_follow_the_stack_config(pack: PolicyPack) -> None:
    from redisinfra.analyzer import PACK_DIR, read_pack_config
    block = {"protocol": "tcp", "fromPort": 7000, "toPort": 7000, "cidrBlocks": ["0.0.0.0/0"]}
    resources = _cache_stack(RG, replication_group(port=7000), block)
    for config in ("prod.json", "dev.json"):
        pack.configure(read_pack_config(PACK_DIR / "config" / config))
        assert [d.level for d in _cache_findings(pack, resources)] == ["mandatory"], config
    pack.configure({CACHE_POLICY: "advisory"})
    assert [d.level for d in _cache_findings(pack, resources)] == ["advisory"]
    pack.configure({CACHE_POLICY: "disabled"})
    assert _cache_findings(pack, resources) == []
