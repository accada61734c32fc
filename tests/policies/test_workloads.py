"""redis-kubernetes-pod-security, redis-ec2-imdsv2, image versions."""
from __future__ import annotations

import pytest

from .builders import (
    CONTAINER, DEPLOYMENT, EC2, REMOTE_IMAGE, STATEFULSET, DROP, UNKNOWN, docker_container, ec2_instance,
    redis_container, workload,
)
from .conftest import Judge, messages


@pytest.mark.parametrize("kind", [STATEFULSET, DEPLOYMENT])
def test_pod_security_passes(judge: Judge, kind: str) -> None:
    assert judge(kind, workload(), "redis-kubernetes-pod-security") == []
    # runAsNonRoot on the pod, not the container, counts too.
    pod_level = workload(redis_container(securityContext={"readOnlyRootFilesystem": True,
                                                          "allowPrivilegeEscalation": False}),
                         securityContext={"runAsNonRoot": True})
    assert judge(kind, pod_level, "redis-kubernetes-pod-security") == []


@pytest.mark.parametrize("context, needle", [
    ({"runAsUser": 0, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}, "may run as root"),
    ({"runAsNonRoot": True, "allowPrivilegeEscalation": False}, "writable root file system"),
    ({"runAsNonRoot": True, "readOnlyRootFilesystem": True}, "allows privilege escalation"),
    ({"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "privileged": True},
     "is privileged"),
])
def test_pod_security_fails(judge: Judge, context: dict, needle: str) -> None:
    found = judge(STATEFULSET, workload(redis_container(securityContext=context)), "redis-kubernetes-pod-security")
    assert needle in messages(found)


def test_pod_security_limits(judge: Judge) -> None:
    found = judge(STATEFULSET, workload(redis_container(resources=DROP)), "redis-kubernetes-pod-security")
    assert "no memory limit" in messages(found) and "no CPU request" in messages(found)


def test_pod_security_only_judges_redis(judge: Judge) -> None:
    other = workload(redis_container(image="nginx:1.27", args=DROP, securityContext=DROP))
    assert judge(DEPLOYMENT, other, "redis-kubernetes-pod-security") == []
    unknown = workload(redis_container(securityContext=UNKNOWN, resources=UNKNOWN))
    assert judge(STATEFULSET, unknown, "redis-kubernetes-pod-security") == []


def test_imdsv2(judge: Judge) -> None:
    policy = "redis-ec2-imdsv2"
    assert judge(EC2, ec2_instance(), policy) == []
    assert "httpTokens is not 'required'" in messages(judge(EC2, ec2_instance(metadataOptions=DROP), policy))
    optional = ec2_instance(metadataOptions={"httpTokens": "optional"})
    assert "not 'required'" in messages(judge(EC2, optional, policy))
    web = {"ami": "ami-1", "instanceType": "t3.micro", "userData": "#!/bin/sh\nyum install -y nginx\n"}
    assert judge(EC2, web, policy) == []
    tagged = {"ami": "ami-1", "instanceType": "r7g.large", "userData": UNKNOWN, "tags": {"Name": "redis-0"}}
    assert "not 'required'" in messages(judge(EC2, tagged, policy))


@pytest.mark.parametrize("image, needle", [
    ("redis:6.2-alpine", "redis 6.2 is older than the minimum 7.0"),
    ("redis", "not pinned to a version"),
    ("docker.io/library/redis:latest", "not pinned"),
    ("valkey/valkey:7.0", "valkey 7.0 is older than the minimum 7.2"),
])
def test_image_versions_fail(judge: Judge, image: str, needle: str) -> None:
    assert needle in messages(judge(CONTAINER, docker_container(image=image), "redis-minimum-engine-version"))
    found = judge(STATEFULSET, workload(redis_container(image=image)), "redis-minimum-engine-version")
    assert needle in messages(found)


@pytest.mark.parametrize("image", ["redis:7.2-alpine", "valkey/valkey:8.0", "redis@sha256:" + "a" * 64, UNKNOWN])
def test_image_versions_pass(judge: Judge, image: str) -> None:
    assert judge(CONTAINER, docker_container(image=image), "redis-minimum-engine-version") == []


def test_remote_image_version_and_pinning(judge: Judge) -> None:
    """A docker.RemoteImage pulling a redis/valkey image: containers often use its image_id (a sha256), so the
    image resource itself carries the version."""
    policy = "redis-minimum-engine-version"
    assert judge(REMOTE_IMAGE, {"name": "redis:7.2-alpine"}, policy) == []
    assert judge(REMOTE_IMAGE, {"name": "valkey/valkey:8.0"}, policy) == []
    assert judge(REMOTE_IMAGE, {"name": "docker.io/library/redis@sha256:" + "a" * 64}, policy) == []
    assert "redis 6.2 is older than the minimum 7.0" in messages(judge(REMOTE_IMAGE, {"name": "redis:6.2"}, policy))
    assert "not pinned" in messages(judge(REMOTE_IMAGE, {"name": "redis:latest"}, policy))
    assert "not pinned" in messages(judge(REMOTE_IMAGE, {"name": "valkey/valkey"}, policy))
    assert judge(REMOTE_IMAGE, {"name": UNKNOWN}, policy) == []
    assert judge(REMOTE_IMAGE, {"name": "nginx:latest"}, policy) == []
    # The container running it by id is not mis-judged as unpinned.
    assert judge(CONTAINER, {"image": "sha256:" + "b" * 64, "command": ["redis-server", "--port", "0"]}, policy) == []
