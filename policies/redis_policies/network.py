"""Network policies: no Internet ingress to Redis ports, Docker ports on loopback, no Kubernetes LoadBalancer."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from pulumi_policy import Severity

from . import targets as t
from .framework import Subject, resource_policy, stack_policy
from .values import UNKNOWN, as_list, get, strings, text, truthy

REDIS_PORTS = [6379, 6380, 16379, 26379]
PORTS_CONFIG = {"ports": {"type": "array", "items": {"type": "integer"}, "default": REDIS_PORTS,
                          "description": "Ports treated as Redis ports (client, TLS, cluster bus, Sentinel)."}}
_OPEN = ("0.0.0.0/0", "::/0")


def _covers(rule: dict[str, Any], ports: list[int], from_key: str, to_key: str, proto_key: str) -> Optional[list[int]]:
    protocol = rule.get(proto_key)
    if protocol is UNKNOWN:
        return None
    if str(protocol).lower() in ("-1", "all"):
        return ports  # every protocol, every port
    if str(protocol).lower() not in ("tcp", "6"):
        return []
    low, high = rule.get(from_key), rule.get(to_key)
    if low is UNKNOWN or high is UNKNOWN or low is None:
        return None
    high = low if high is None else high
    return [p for p in ports if int(low) <= p <= int(high)]


def _open_exposures(entries: list[tuple[str, dict[str, Any], tuple[str, str, str], tuple[str, ...]]],
                    ports: list[int]) -> Iterator[tuple[str, list[int], list[str]]]:
    """(label, exposed ports, world-open sources) of each ingress entry that opens one of `ports` to the world."""
    for label, rule, (low, high, proto), cidr_keys in entries:
        sources = _open_sources(rule, cidr_keys)
        exposed = _covers(rule, ports, low, high, proto) if sources else []
        if exposed:
            yield label, exposed, sources


def _open_sources(rule: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    found = []
    for key in keys:
        for cidr in strings(as_list(rule.get(key))):
            if cidr.strip() in _OPEN:
                found.append(cidr.strip())
    return found


def check_ingress(subject: Subject) -> Iterator[str]:
    """Security groups and rules opening a Redis port to 0.0.0.0/0 or ::/0."""
    props, ports = subject.props, [int(p) for p in subject.config["ports"]]
    rules: list[tuple[str, dict[str, Any], tuple[str, str, str], tuple[str, ...]]] = []
    if subject.type == t.SECURITY_GROUP:
        for i, rule in enumerate(as_list(props.get("ingress"))):
            if isinstance(rule, dict):
                rules.append((f"ingress[{i}]", rule, ("fromPort", "toPort", "protocol"), ("cidrBlocks", "ipv6CidrBlocks")))
    elif subject.type == t.SECURITY_GROUP_RULE and props.get("type") == "ingress":
        rules.append(("rule", props, ("fromPort", "toPort", "protocol"), ("cidrBlocks", "ipv6CidrBlocks")))
    elif subject.type == t.INGRESS_RULE:
        rules.append(("rule", props, ("fromPort", "toPort", "ipProtocol"), ("cidrIpv4", "cidrIpv6")))
    for label, exposed, sources in _open_exposures(rules, ports):
        yield (f"{label} opens Redis port(s) {', '.join(map(str, exposed))} to {' and '.join(sources)}: "
               "Redis must only be reachable from the application's security group or subnets")


NO_PUBLIC_INGRESS = resource_policy(
    "redis-no-public-ingress",
    "No security group opens a Redis, cluster-bus or Sentinel port to 0.0.0.0/0 or ::/0.",
    check_ingress, severity=Severity.CRITICAL, config=PORTS_CONFIG,
    remediation_steps="Allow the Redis ports only from the clients' security group (source_security_group_id) or "
                      "private CIDRs; never 0.0.0.0/0 or ::/0.",
)

# ElastiCache Serverless listens on fixed ports: 6379 (read/write) and 6380 (reads from replicas).
SERVERLESS_PORTS = [6379, 6380]


def _cache_ports(cache: Subject) -> Optional[list[int]]:
    """The ports a replication group (`port`, default 6379) or serverless cache listens on; None when unknown."""
    if cache.type == t.SERVERLESS_CACHE:
        return SERVERLESS_PORTS
    port = cache.props.get("port")
    if port is UNKNOWN:
        return None
    if port is None:
        return [6379]
    return [int(port)] if isinstance(port, (int, float)) and not isinstance(port, bool) else None


def _rules_of(rule_subject: Subject) -> list[tuple[dict[str, Any], tuple[str, str, str], tuple[str, ...]]]:
    props = rule_subject.props
    if rule_subject.type == t.SECURITY_GROUP_RULE and props.get("type") == "ingress":
        return [(props, ("fromPort", "toPort", "protocol"), ("cidrBlocks", "ipv6CidrBlocks"))]
    if rule_subject.type == t.INGRESS_RULE:
        return [(props, ("fromPort", "toPort", "ipProtocol"), ("cidrIpv4", "cidrIpv6"))]
    return []


def check_cache_ingress(subjects: list[Subject], cfg: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A cache's own port, open to 0.0.0.0/0 or ::/0 in a security group the cache lists in securityGroupIds.

    The cache names its groups by id; during preview a new group's id is unknown, so the link is the engine's
    property dependency (securityGroupIds computed from the group's URN), or a literal id a rule also names.
    """
    by_urn = {s.urn: s for s in subjects}
    for cache in subjects:
        if cache.type not in (t.REPLICATION_GROUP, t.SERVERLESS_CACHE):
            continue
        ports = _cache_ports(cache)
        if not ports:
            continue
        group_urns = {u for u in cache.property_dependencies.get("securityGroupIds", []) if u in by_urn}
        literal_ids = set(strings(as_list(cache.props.get("securityGroupIds"))))
        exposures: list[tuple[str, dict[str, Any], tuple[str, str, str], tuple[str, ...]]] = []
        for urn in sorted(group_urns):
            group = by_urn[urn]
            if group.type != t.SECURITY_GROUP:
                continue
            for i, rule in enumerate(as_list(group.props.get("ingress"))):
                if isinstance(rule, dict):
                    exposures.append((f"security group {group.name} ingress[{i}]", rule,
                                      ("fromPort", "toPort", "protocol"), ("cidrBlocks", "ipv6CidrBlocks")))
        for other in subjects:
            rules = _rules_of(other)
            if not rules:
                continue
            target = other.props.get("securityGroupId")
            attached = bool(set(other.property_dependencies.get("securityGroupId", [])) & group_urns) or (
                isinstance(target, str) and target in literal_ids)
            if attached:
                for rule, keys, cidr_keys in rules:
                    exposures.append((f"rule {other.name}", rule, keys, cidr_keys))
        for label, exposed, sources in _open_exposures(exposures, ports):
            yield (f"{label} opens the cache's port {', '.join(map(str, exposed))} to {' and '.join(sources)}: "
                   "Redis must only be reachable from the application's security group or subnets", cache.urn)


NO_PUBLIC_INGRESS_CACHE_PORT = stack_policy(
    "redis-no-public-ingress-cache-port",
    "No security group that an ElastiCache replication group or serverless cache uses opens the cache's own port "
    "(whatever it is) to 0.0.0.0/0 or ::/0.",
    check_cache_ingress, severity=Severity.CRITICAL,
    remediation_steps="Allow the cache's port only from the clients' security group (referenced_security_group_id / "
                      "source_security_group_id) or private CIDRs; never 0.0.0.0/0 or ::/0.",
)

LOOPBACK_CONFIG = {
    "allowedAddresses": {"type": "array", "items": {"type": "string"}, "default": ["127.0.0.1", "::1"],
                         "description": "Host addresses a Redis container may publish ports on."},
    "ports": PORTS_CONFIG["ports"],
    "portSpan": {"type": "integer", "minimum": 1, "default": 100,
                 "description": "A container publishing any of ports[i] .. ports[i]+portSpan-1 counts as Redis "
                                "(several nodes on one host use consecutive ports)."},
}


def _publishes_redis_port(props: dict[str, Any], ports: list[int], span: int) -> bool:
    for port in as_list(props.get("ports")):
        internal = port.get("internal") if isinstance(port, dict) else None
        if isinstance(internal, (int, float)) and any(base <= int(internal) < base + span for base in ports):
            return True
    return False


def check_loopback(subject: Subject) -> Iterator[str]:
    """A Redis container publishes its ports on loopback only and does not share the host network."""
    if subject.type != t.DOCKER_CONTAINER:
        return
    props, cfg = subject.props, subject.config
    ports = [int(p) for p in cfg["ports"]]
    # A container that holds the network namespace for Redis containers publishes their ports without running Redis.
    if not t.docker_is_redis(props) and not _publishes_redis_port(props, ports, int(cfg["portSpan"])):
        return
    allowed = set(cfg["allowedAddresses"])
    if props.get("networkMode") == "host":
        yield "networkMode 'host' exposes Redis on every host interface; use a bridge network and publish on loopback"
    if truthy(props.get("publishAllPorts")):
        yield ("publishAllPorts is true: Docker publishes every exposed port (6379 for a redis/valkey image) on "
               "0.0.0.0 with a random host port; list the ports with ip='127.0.0.1' instead")
    for port in as_list(props.get("ports")):
        if not isinstance(port, dict):
            continue
        ip = port.get("ip")
        if ip is UNKNOWN:
            continue
        address = ip or "0.0.0.0"
        if address not in allowed:
            internal = port.get("internal")
            shown = int(internal) if isinstance(internal, (int, float)) else internal
            yield (f"port {shown} is published on {address}: anyone who reaches the host reaches Redis; "
                   f"publish on {' or '.join(sorted(allowed))}")


def remedy_loopback(subject: Subject) -> Optional[dict[str, Any]]:
    """Publish every listed port on 127.0.0.1 and turn publishAllPorts off (port mappings only; no data is touched)."""
    if not list(check_loopback(subject)) or subject.props.get("networkMode") == "host":
        return None
    changes: dict[str, Any] = {}
    if subject.props.get("ports") is not None:
        changes["ports"] = [dict(p, ip="127.0.0.1") if isinstance(p, dict) else p
                            for p in as_list(subject.props.get("ports"))]
    if truthy(subject.props.get("publishAllPorts")):
        changes["publishAllPorts"] = False
    return changes or None


DOCKER_LOOPBACK = resource_policy(
    "redis-docker-loopback-only",
    "Docker containers running Redis (or publishing Redis ports) publish them on loopback addresses only (no "
    "publishAllPorts, no host network).",
    check_loopback, remedy=remedy_loopback, severity=Severity.HIGH, config=LOOPBACK_CONFIG,
    remediation_steps="Set ip='127.0.0.1' on every ContainerPortArgs (redis-infra: docker.publish_address), leave "
                      "publish_all_ports off and do not use network_mode='host'; reach Redis from other hosts through a TLS tunnel or a private network.",
)


def _service_ports(spec: dict[str, Any]) -> list[Any]:
    out = []
    for port in as_list(spec.get("ports")):
        if isinstance(port, dict):
            out += [port.get("port"), port.get("targetPort"), port.get("name")]
    return out


def check_load_balancer(subject: Subject) -> Iterator[str]:
    """A Service of type LoadBalancer (or NodePort) in front of Redis ports."""
    if subject.type != t.K8S_SERVICE:
        return
    spec = get(subject.props, "spec")
    if not isinstance(spec, dict):
        return
    kind = spec.get("type")
    if kind not in ("LoadBalancer", "NodePort"):
        return
    ports = {int(p) for p in subject.config["ports"]}
    values = _service_ports(spec)
    name = text(get(subject.props, "metadata", "name"), "")
    redis = any((isinstance(v, (int, float)) and not isinstance(v, bool) and int(v) in ports) or (isinstance(v, str) and ("redis" in v or "sentinel" in v))
                for v in values) or "redis" in name or "valkey" in name
    if redis:
        yield f"Service type {kind} exposes Redis outside the cluster; use ClusterIP (and a NetworkPolicy)"


K8S_NO_LOAD_BALANCER = resource_policy(
    "redis-kubernetes-no-loadbalancer",
    "Redis Services are ClusterIP: never a LoadBalancer or NodePort that exposes Redis outside the cluster.",
    check_load_balancer, severity=Severity.HIGH, config=PORTS_CONFIG,
    remediation_steps="Set spec.type='ClusterIP' (a headless Service for StatefulSets) and restrict clients with a "
                      "NetworkPolicy; for access from outside use a private link or a TLS proxy.",
)
