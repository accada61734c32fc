"""redis-infra's CrossGuard policies: Redis/Valkey on ElastiCache, Docker, Kubernetes and EC2.

Import-safe (nothing here starts a server): `policies/__main__.py` builds the PolicyPack from POLICIES.
"""
from __future__ import annotations

from . import values  # noqa: F401  installs the secret-preserving deserializer before anything is analysed
from .auth import AUTH, SECRETS
from .elasticache import AT_REST, FAILOVER, MINOR, SNAPSHOTS
from .memory import HEADROOM, POLICY as MAXMEMORY
from .network import DOCKER_LOOPBACK, K8S_NO_LOAD_BALANCER, NO_PUBLIC_INGRESS, NO_PUBLIC_INGRESS_CACHE_PORT
from .transport import POLICY as TLS
from .workload import IMDSV2, MIN_VERSION, POD_SECURITY

PACK_NAME = "redis-infra"

POLICIES = [
    TLS, AUTH, SECRETS, MAXMEMORY, HEADROOM,
    AT_REST, SNAPSHOTS, FAILOVER, MINOR,
    NO_PUBLIC_INGRESS, NO_PUBLIC_INGRESS_CACHE_PORT, DOCKER_LOOPBACK, K8S_NO_LOAD_BALANCER,
    POD_SECURITY, IMDSV2, MIN_VERSION,
]

__all__ = ["PACK_NAME", "POLICIES"]
