"""Config section `redis:docker` (Docker backend, the `dev` stack) and its cross-field rules.

Addressing (REFERENCE.md pitfall 1): every node of a Docker deployment shares one network namespace (a "pod", held
by a small anchor container on the stack's own bridge network) and one announced name, `announce_host`
(`localhost` by default). Node *i* listens on port `ports.redis + i` (Sentinel *j* on `ports.sentinel + j`), the same
number inside the pod and on the host, so the address a node announces (`localhost:<port>`) is the one host clients
dial through the published loopback port *and* the one its peers dial inside the pod. See docs/docker.md.
"""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Optional

from pydantic import Field, field_validator

from .base import RuleError, Strict

if TYPE_CHECKING:  # the stack config imports this module; only type checkers need the reverse import
    from ..config import StackConfig

# Pinned patch releases of the official Alpine images (uid 999, gid 1000 in both). Bump deliberately.
IMAGES: dict[tuple[str, str], str] = {
    ("redis", "7.0"): "redis:7.0.15-alpine",
    ("redis", "7.2"): "redis:7.2.7-alpine",
    ("redis", "7.4"): "redis:7.4.2-alpine",
    ("valkey", "7.2"): "valkey/valkey:7.2.8-alpine",
    ("valkey", "8.0"): "valkey/valkey:8.0.2-alpine",
    ("valkey", "8.1"): "valkey/valkey:8.1.1-alpine",
}
EXPORTER_IMAGE = "oliver006/redis_exporter:v1.67.0-alpine"
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class DockerSettings(Strict):
    """Docker backend settings."""

    publish_address: str = Field(
        "127.0.0.1", description="Host address the client ports are published on (loopback: only this machine can connect).")
    announce_host: str = Field(
        "localhost", description="Host name every node announces (to Sentinel/Cluster clients and peers); must resolve to "
                                 "`publish_address` on client machines. Inside the pod it always means the pod itself.")
    image: Optional[str] = Field(
        None, description="Server image override (`repo:tag` or `repo@sha256:...`). Default: a pinned official Alpine "
                          "image for `engine`/`version` (redis:7.2.7-alpine, valkey/valkey:8.0.2-alpine, ...).")
    exporter: bool = Field(False, description="Run a `redis_exporter` container for Prometheus (TLS and auth to Redis).")
    exporter_image: str = Field(EXPORTER_IMAGE, description="Pinned `redis_exporter` image.")
    exporter_port: int = Field(9121, ge=1, le=65535, description="Host port of the exporter's metrics (HTTPS).")
    sentinel_memory: str = Field("64mb", description="Memory limit of each Sentinel container.")
    cpus: Optional[str] = Field(None, description="CPU limit per Redis container (e.g. `1.5`); none by default.")
    health_interval_s: int = Field(5, ge=1, le=300, description="Seconds between container health checks.")

    @field_validator("publish_address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address (e.g. 127.0.0.1)") from None
        return value

    @field_validator("announce_host")
    @classmethod
    def _announce(cls, value: str) -> str:
        # A name, never an IP: redis.conf then binds every interface of the pod (published traffic arrives on the
        # pod's bridge interface, not on loopback) and names are never mixed with IPs (pitfall 1).
        if _is_ip(value):
            raise ValueError(f"{value!r} is an IP; give a host name that resolves to publish_address")
        if not _HOST.match(value):
            raise ValueError(f"{value!r} is not a valid lowercase host name")
        return value

    @field_validator("image", "exporter_image")
    @classmethod
    def _image(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _IMAGE.match(value):
            raise ValueError(f"{value!r} is not an image reference (repo:tag or repo@sha256:<digest>)")
        return value

    @field_validator("cpus")
    @classmethod
    def _cpus(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (not re.match(r"^\d+(\.\d+)?$", value) or float(value) <= 0):
            raise ValueError(f"{value!r} is not a CPU count (e.g. 1.5)")
        return value

    @field_validator("sentinel_memory")
    @classmethod
    def _sentinel_memory(cls, value: str) -> str:
        from ..units import parse_size

        if parse_size(value) < 16 * 1024**2:
            raise ValueError("below 16mb a Sentinel cannot start")
        return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def image_for(cfg: "StackConfig") -> str:
    """The server image of a stack: the override, or the pinned image of its engine and version."""
    settings = cfg.docker or DockerSettings()
    return settings.image or IMAGES[(cfg.engine, cfg.version or "")]


def port_ranges(cfg: "StackConfig") -> dict[str, range]:
    """Ports the pod uses, by purpose: one per node, consecutive (they share one address)."""
    data = cfg.shards * (1 + cfg.replicas_per_primary)
    ranges = {"ports.redis": range(cfg.ports.redis, cfg.ports.redis + data)}
    if cfg.topology == "sentinel" and cfg.sentinel:
        ranges["ports.sentinel"] = range(cfg.ports.sentinel, cfg.ports.sentinel + cfg.sentinel.count)
    if cfg.topology == "cluster":
        ranges["ports.cluster_bus"] = range(cfg.bus_port, cfg.bus_port + data)
    if cfg.docker and cfg.docker.exporter:
        # With Sentinels a second exporter (their default user; they have no `monitor`) listens on the next port.
        count = 2 if cfg.topology == "sentinel" and cfg.sentinel else 1
        ranges["docker.exporter_port"] = range(cfg.docker.exporter_port, cfg.docker.exporter_port + count)
    return ranges


def check(cfg: "StackConfig") -> None:
    """Docker rules: an image exists for the version, ports fit and do not collide, remote publishing is safe."""
    settings = cfg.docker or DockerSettings()
    if settings.image is None and (cfg.engine, cfg.version) not in IMAGES:
        allowed = ", ".join(v for e, v in IMAGES if e == cfg.engine)
        raise RuleError("version", f"no pinned {cfg.engine} {cfg.version} image for Docker "
                                   f"(allowed: {allowed}; or set docker.image)")
    ranges = port_ranges(cfg)
    for key, ports in ranges.items():
        if ports.stop - 1 > 65535:
            raise RuleError(key, f"{len(ports)} nodes from port {ports.start} run past 65535; choose a lower port")
    keys = list(ranges)
    for i, first in enumerate(keys):
        for second in keys[i + 1:]:
            a, b = ranges[first], ranges[second]
            if a.start < b.stop and b.start < a.stop:
                raise RuleError(second, f"ports {b.start}-{b.stop - 1} overlap {first} {a.start}-{a.stop - 1} "
                                        "(Docker nodes share one address, so each takes the next port)")
    loopback = ipaddress.ip_address(settings.publish_address).is_loopback
    if not loopback and not cfg.security.tls.enabled:
        raise RuleError("docker.publish_address", f"{settings.publish_address} is reachable from other machines; "
                                                  "that needs security.tls.enabled: true (or use 127.0.0.1)")
    if not loopback and settings.announce_host == "localhost":
        raise RuleError("docker.announce_host", "clients on other machines cannot dial localhost; set a name that "
                                                f"resolves to {settings.publish_address}")
