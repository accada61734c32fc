"""The self-hosted Redis processes a resource describes (Docker, Kubernetes, EC2), one place for all policies."""
from __future__ import annotations

from . import targets as t
from .framework import Subject


def processes(subject: Subject) -> list[t.Process]:
    """Every Redis/Sentinel process the resource configures ([] when it is not a Redis resource)."""
    props = subject.props
    if subject.type == t.DOCKER_CONTAINER and t.docker_is_redis(props):
        process = t.docker_process(props)
        return [process] if process else []
    if subject.type in t.K8S_WORKLOADS:
        spec = t.pod_spec(props)
        found = [t.k8s_process(c) for c in t.redis_containers(spec)]
        return [p for p in found if p is not None]
    if subject.type in (t.K8S_CONFIGMAP, t.K8S_SECRET):
        return t.configmap_processes(props, subject.type)
    if subject.type in t.EC2_TYPES and t.ec2_is_redis(props, subject.type):
        return [t.ec2_process(props, subject.type)]
    return []


def judged_by_configmap(subject: Subject, process: t.Process) -> bool:
    """A Kubernetes container whose config file comes from a volume: its ConfigMap is judged instead."""
    return subject.type in t.K8S_WORKLOADS and bool(process.conf.external)


def where(subject: Subject, process: t.Process) -> str:
    """`container redis-0` / `ConfigMap data.redis.conf` / `user data`: where the finding is."""
    if subject.type in t.EC2_TYPES:
        return "user data"
    if subject.type == t.K8S_CONFIGMAP:
        return f"ConfigMap {process.label}"
    if subject.type == t.K8S_SECRET:
        return f"Secret {process.label}"
    if subject.type in t.K8S_WORKLOADS:
        return f"container {process.label}"
    return "container"


def role(process: t.Process) -> str:
    """`Sentinel` or `Redis`."""
    return "Sentinel" if process.conf.sentinel else "Redis"


__all__ = ["processes", "judged_by_configmap", "where", "role"]
