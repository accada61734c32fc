"""The Pulumi program behind `__main__.py`: config -> plan -> the backend's component -> stack output `connection`."""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .config import StackConfig
from .plan import build_plan
from .stack import ConfigError, load_from_pulumi

# backend -> "module:Component"; each component takes (name, config, plan) and exposes `.connection`.
BACKENDS: dict[str, str] = {
    "elasticache": "components.elasticache:ElastiCacheRedis",
    "docker": "components.docker:DockerRedis",
}


def backend_factory(backend: str) -> Callable[..., Any] | None:
    """The component class for a backend, or None while that backend is not built yet."""
    target = BACKENDS.get(backend)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_config() -> StackConfig:
    """The validated stack config; a bad one stops the program before any resource is registered."""
    import pulumi

    try:
        return load_from_pulumi()
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None


def main() -> None:
    """Run the program for the current stack."""
    import pulumi

    cfg = load_config()
    plan = build_plan(cfg)
    pulumi.export("plan", {
        "backend": cfg.backend, "topology": cfg.topology, "engine": f"{cfg.engine} {cfg.version}",
        "nodes": [{"name": n.name, "role": n.role, "shard": n.shard, "zone": n.zone} for n in plan.all_nodes],
    })
    factory = backend_factory(cfg.backend)
    if factory is None:
        pulumi.log.warn(f"backend {cfg.backend!r} is not available in this version; nothing is created")
        return
    component = factory(cfg.name, cfg, plan)
    pulumi.export("connection", component.connection)
