"""Policies `redis-maxmemory` (per resource) and `redis-maxmemory-headroom` (Kubernetes: ConfigMap vs pod limit)."""
from __future__ import annotations

from typing import Any, Iterator

from pulumi_policy import Severity

from . import targets as t
from .framework import Subject, resource_policy, stack_policy
from .redisconf import maxmemory_finding, parse_size
from .selfhosted import judged_by_configmap, processes, role, where
from .values import UNKNOWN, as_list, get, text

EVICTION_POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                     "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]
CONFIG = {
    "allowedPolicies": {"type": "array", "items": {"type": "string", "enum": EVICTION_POLICIES},
                        "default": EVICTION_POLICIES, "description": "maxmemory-policy values allowed."},
    "maxMemoryShare": {"type": "number", "minimum": 0.1, "maximum": 1, "default": 0.75,
                       "description": "Highest maxmemory as a share of the container/pod/instance memory "
                                      "(the rest is copy-on-write and buffer headroom)."},
}


def _parameters(props: dict[str, Any]) -> Any:
    params = props.get("parameters")
    if params is UNKNOWN:
        return UNKNOWN
    out = {}
    for p in as_list(params):
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            out[p["name"]] = p.get("value")
    return out


def check(subject: Subject) -> Iterator[str]:
    """maxmemory set, an allowed eviction policy, headroom below the memory limit; ElastiCache via parameter group."""
    props, cfg = subject.props, subject.config
    allowed = [p.lower() for p in cfg["allowedPolicies"]]
    if subject.type == t.REPLICATION_GROUP:
        name = props.get("parameterGroupName")
        if name is UNKNOWN:
            return
        if not name or (isinstance(name, str) and name.startswith("default.")):
            yield ("uses the default parameter group: create an aws.elasticache.ParameterGroup that sets "
                   "maxmemory-policy and pass its name as parameterGroupName")
        return
    if subject.type == t.PARAMETER_GROUP:
        family = props.get("family")
        if not isinstance(family, str) or not family.startswith(("redis", "valkey")):
            return
        params = _parameters(props)
        if params is UNKNOWN:
            return
        policy = params.get("maxmemory-policy")
        if policy is UNKNOWN:
            return
        if policy is None:
            yield f"does not set maxmemory-policy (allowed: {', '.join(allowed)})"
        elif str(policy).lower() not in allowed:
            yield f"maxmemory-policy {policy!r} is not allowed (allowed: {', '.join(allowed)})"
        reserved = params.get("reserved-memory-percent")
        if isinstance(reserved, str) and reserved.isdigit() and int(reserved) < 100 - round(cfg["maxMemoryShare"] * 100):
            yield (f"reserved-memory-percent {reserved} leaves less than {1 - cfg['maxMemoryShare']:.0%} headroom "
                   "for fork copy-on-write")
        return
    for process in processes(subject):
        if process.conf.sentinel:
            continue
        limit = process.memory_limit
        if subject.type == t.DOCKER_CONTAINER and limit is None:
            yield "the container has no memory limit (`memory`): maxmemory cannot be checked against it"
        if subject.type in t.K8S_WORKLOADS and limit is None:
            yield f"container {process.label} has no resources.limits.memory"
        if judged_by_configmap(subject, process):
            continue  # maxmemory itself lives in the ConfigMap (see also redis-maxmemory-headroom)
        finding = maxmemory_finding(process.conf, allowed, limit, float(cfg["maxMemoryShare"]))
        if finding.state == "violated":
            yield f"{role(process)} in {where(subject, process)}: " + "; ".join(finding.reasons)


POLICY = resource_policy(
    "redis-maxmemory",
    "Every Redis node has maxmemory set below its container, pod or instance memory with headroom, and an allowed "
    "eviction policy; ElastiCache uses its own parameter group that sets maxmemory-policy.",
    check, severity=Severity.HIGH, config=CONFIG,
    remediation_steps=(
        "Set `maxmemory` to at most maxMemoryShare (default 75%) of the memory limit and `maxmemory-policy` to an "
        "allowed value; give containers and pods a memory limit. ElastiCache: create a ParameterGroup (family "
        "redis7/valkey7/valkey8) with maxmemory-policy and pass it as parameter_group_name (redis-infra: memory.*)."),
)


def _configmap_limits(subjects: list[Subject]) -> dict[str, Subject]:
    return {str(get(s.props, "metadata", "name")): s for s in subjects
            if s.type in (t.K8S_CONFIGMAP, t.K8S_SECRET) and isinstance(get(s.props, "metadata", "name"), str)}


def _volume_source(volume: dict[str, Any]) -> Any:
    """The ConfigMap or Secret name a pod volume mounts (None for other volumes)."""
    configmap = get(volume, "configMap", "name")
    return configmap if configmap is not None else get(volume, "secret", "secretName")


def check_headroom(subjects: list[Subject], cfg: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A Redis container's maxmemory (from the ConfigMap it mounts) stays below its memory limit with headroom."""
    share = float(cfg["maxMemoryShare"])
    configmaps = _configmap_limits(subjects)
    for workload in subjects:
        if workload.type not in t.K8S_WORKLOADS:
            continue
        spec = t.pod_spec(workload.props)
        if not isinstance(spec, dict):
            continue
        volumes = {v.get("name"): _volume_source(v) for v in as_list(spec.get("volumes")) if isinstance(v, dict)}
        for container in t.redis_containers(spec):
            limit = t.memory_quantity(get(container, "resources", "limits", "memory"))
            if limit is UNKNOWN or not limit:
                continue
            for mount in as_list(container.get("volumeMounts")):
                cm = configmaps.get(str(volumes.get(mount.get("name")))) if isinstance(mount, dict) else None
                if cm is None:
                    continue
                for process in t.configmap_processes(cm.props, cm.type):
                    raw = process.conf.value("maxmemory")
                    size = parse_size(raw) if raw else None
                    if size and size > limit * share:
                        kind = "ConfigMap" if cm.type == t.K8S_CONFIGMAP else "Secret"
                        yield (f"container {text(container.get('name'), '?')} mounts {kind} {get(cm.props, 'metadata', 'name')} "
                               f"whose maxmemory ({size} bytes) is above {share:.0%} of the {limit}-byte memory limit",
                               workload.urn)


HEADROOM = stack_policy(
    "redis-maxmemory-headroom",
    "A Kubernetes Redis container's maxmemory (in the ConfigMap it mounts) leaves headroom below its memory limit.",
    check_headroom, severity=Severity.HIGH, config={"maxMemoryShare": CONFIG["maxMemoryShare"]},
    remediation_steps="Lower `maxmemory` in the ConfigMap or raise resources.limits.memory of the container.",
)

__all__ = ["POLICY", "HEADROOM"]
