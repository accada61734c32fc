"""Workload policies: Kubernetes pod security, EC2 IMDSv2, minimum engine version."""
from __future__ import annotations

import re
from typing import Any, Iterator, Optional

from pulumi_policy import Severity

from . import targets as t
from .framework import Subject, resource_policy
from .values import UNKNOWN, get, text, truthy


def _setting(container: dict[str, Any], pod: dict[str, Any], key: str) -> Any:
    value = get(container, "securityContext", key)
    return value if value is not None else get(pod, "securityContext", key)


def check_pod_security(subject: Subject) -> Iterator[str]:
    """Redis containers: non-root, read-only root file system, no privilege escalation, resource limits."""
    if subject.type not in t.K8S_WORKLOADS:
        return
    spec = t.pod_spec(subject.props)
    if not isinstance(spec, dict):
        return
    for container in t.redis_containers(spec):
        name = f"container {text(container.get('name'), '?')}"
        non_root, user = _setting(container, spec, "runAsNonRoot"), _setting(container, spec, "runAsUser")
        if UNKNOWN not in (non_root, user) and not (truthy(non_root) if non_root is not None else False) \
                and not (isinstance(user, (int, float)) and not isinstance(user, bool) and user > 0):
            yield f"{name} may run as root: set securityContext.runAsNonRoot: true (and runAsUser)"
        read_only = get(container, "securityContext", "readOnlyRootFilesystem")
        if read_only is not UNKNOWN and not (truthy(read_only) if read_only is not None else False):
            yield f"{name} has a writable root file system: set securityContext.readOnlyRootFilesystem: true"
        escalation = get(container, "securityContext", "allowPrivilegeEscalation")
        if escalation is not UNKNOWN and (escalation is None or truthy(escalation)):
            yield f"{name} allows privilege escalation: set securityContext.allowPrivilegeEscalation: false"
        if get(container, "securityContext", "privileged") is True:
            yield f"{name} is privileged"
        limits = get(container, "resources", "limits")
        if limits is not UNKNOWN and (not isinstance(limits, dict) or limits.get("memory") is None):
            yield f"{name} has no memory limit: set resources.limits.memory"
        cpu = get(container, "resources", "requests", "cpu")
        if cpu is None and not (isinstance(limits, dict) and limits.get("cpu") is not None):
            yield f"{name} has no CPU request: set resources.requests.cpu"


POD_SECURITY = resource_policy(
    "redis-kubernetes-pod-security",
    "Redis pods run as non-root with a read-only root file system, no privilege escalation and resource limits.",
    check_pod_security, severity=Severity.HIGH,
    remediation_steps="In each Redis container set securityContext {runAsNonRoot: true, runAsUser: 999, "
                      "readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}} and "
                      "resources {requests: {cpu, memory}, limits: {memory}}; write data only to the /data volume.",
)


def check_imdsv2(subject: Subject) -> Iterator[str]:
    """EC2 instances running Redis require IMDSv2 session tokens."""
    if subject.type not in t.EC2_TYPES or not t.ec2_is_redis(subject.props, subject.type):
        return
    tokens = get(subject.props, "metadataOptions", "httpTokens")
    if tokens is UNKNOWN:
        return
    if tokens != "required":
        yield ("metadataOptions.httpTokens is not 'required': IMDSv1 lets any SSRF read the instance role's "
               "credentials")


def remedy_imdsv2(subject: Subject) -> Optional[dict[str, Any]]:
    """Require IMDSv2 tokens (an in-place change)."""
    if not list(check_imdsv2(subject)):
        return None
    options = get(subject.props, "metadataOptions")
    options = dict(options) if isinstance(options, dict) else {}
    options.update({"httpTokens": "required", "httpEndpoint": options.get("httpEndpoint") or "enabled"})
    return {"metadataOptions": options}


IMDSV2 = resource_policy(
    "redis-ec2-imdsv2",
    "EC2 instances (and launch templates) that run Redis require IMDSv2 (metadata session tokens).",
    check_imdsv2, remedy=remedy_imdsv2, severity=Severity.HIGH,
    remediation_steps="Set metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled', "
                      "'http_put_response_hop_limit': 1}.",
)

VERSION_CONFIG = {
    "minimumRedisVersion": {"type": "string", "default": "7.0", "description": "Oldest Redis major.minor allowed."},
    "minimumValkeyVersion": {"type": "string", "default": "7.2", "description": "Oldest Valkey major.minor allowed."},
}
_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?")


def _version(text: Any) -> Optional[tuple[int, int]]:
    if not isinstance(text, str):
        return None
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _too_old(engine: str, version: tuple[int, int], cfg: dict[str, Any]) -> Optional[str]:
    minimum = _version(cfg["minimumValkeyVersion" if engine == "valkey" else "minimumRedisVersion"])
    if minimum and version < minimum:
        return f"{engine} {version[0]}.{version[1]} is older than the minimum {minimum[0]}.{minimum[1]}"
    return None


def _image_findings(image: Any, where: str, cfg: dict[str, Any]) -> Iterator[str]:
    if image is UNKNOWN or not t.is_redis_image(image):
        return
    tag = t.image_tag(image)
    digest = isinstance(image, str) and "@sha256:" in image
    version = _version(tag)
    if version is None:
        if not digest:
            yield f"{where} image {image} is not pinned to a version (tag {tag or 'latest'}): pin major.minor"
        return
    old = _too_old(t.engine_of_image(image) or "redis", version, cfg)
    if old:
        yield f"{where} runs {old}"


def _serverless_version(props: dict[str, Any], cfg: dict[str, Any]) -> Iterator[str]:
    # Serverless takes a major version only and runs its latest minor: compare majors.
    engine, major = props.get("engine"), props.get("majorEngineVersion")
    if UNKNOWN in (engine, major) or not isinstance(engine, str) or engine.lower() not in ("redis", "valkey"):
        return
    parsed = _version(major)
    minimum = _version(cfg["minimumValkeyVersion" if engine.lower() == "valkey" else "minimumRedisVersion"])
    if parsed and minimum and parsed[0] < minimum[0]:
        yield (f"majorEngineVersion: {engine.lower()} {parsed[0]} is older than the minimum "
               f"{minimum[0]}.{minimum[1]}")


def check_version(subject: Subject) -> Iterator[str]:
    """Engine version at least the configured minimum; self-hosted images pinned to a version."""
    props, cfg = subject.props, subject.config
    if subject.type == t.SERVERLESS_CACHE:
        yield from _serverless_version(props, cfg)
        return
    if subject.type == t.CACHE_CLUSTER and props.get("engine") not in ("redis", "valkey"):
        return  # memcached, or a replication group member (its group states the version)
    if subject.type in (t.REPLICATION_GROUP, t.CACHE_CLUSTER):
        version = props.get("engineVersion")
        if version is UNKNOWN or version is None:
            return
        parsed = _version(version)
        engine = props.get("engine")
        if engine is UNKNOWN:
            return
        engine = text(engine, "redis").lower()
        if parsed:
            old = _too_old("valkey" if engine == "valkey" else "redis", parsed, cfg)
            if old:
                yield f"engineVersion: {old}"
        return
    if subject.type == t.DOCKER_REMOTE_IMAGE:
        # Containers usually run `RemoteImage.image_id` (a sha256, unknown in preview): the pulled name tells the version.
        yield from _image_findings(props.get("name"), "the RemoteImage", cfg)
        return
    if subject.type == t.DOCKER_CONTAINER and t.docker_is_redis(props):
        yield from _image_findings(props.get("image"), "the container", cfg)
    if subject.type in t.K8S_WORKLOADS:
        for container in t.redis_containers(t.pod_spec(props)):
            yield from _image_findings(container.get("image"), f"container {text(container.get('name'), '?')}", cfg)


MIN_VERSION = resource_policy(
    "redis-minimum-engine-version",
    "Redis and Valkey run at least the configured minimum version (ElastiCache groups, nodes and Serverless caches, "
    "container images and docker.RemoteImage pulls), and images are pinned to a version.",
    check_version, severity=Severity.MEDIUM, config=VERSION_CONFIG,
    remediation_steps="Upgrade engine_version / the image tag (replicas first, then fail over, then the old primary); "
                      "pin images to major.minor (e.g. redis:7.2) or a digest, never latest.",
)

__all__ = ["POD_SECURITY", "IMDSV2", "MIN_VERSION"]
