"""Backend config sections, one module each. A module may define `check(cfg)` for its cross-field rules
(raising RuleError with a path relative to the stack config, e.g. "elasticache.node_type")."""
from __future__ import annotations

from types import ModuleType

from . import docker, ec2, elasticache, kubernetes
from .docker import DockerSettings
from .ec2 import EC2Settings
from .elasticache import ElastiCacheSettings
from .kubernetes import KubernetesSettings

BACKEND_SECTIONS: dict[str, ModuleType] = {
    "docker": docker, "ec2": ec2, "elasticache": elasticache, "kubernetes": kubernetes,
}

__all__ = ["BACKEND_SECTIONS", "DockerSettings", "EC2Settings", "ElastiCacheSettings", "KubernetesSettings"]
