"""Shared pytest fixtures: the Pulumi mocks harness (`pulumi_run`) and the repository root."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from redisinfra.mocks import Recording, run_program, stack_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The repository root (where the Pulumi.<stack>.yaml files live)."""
    return ROOT


@pytest.fixture
def pulumi_run() -> Iterator[Callable[..., Recording]]:
    """Run a Pulumi program offline under recording mocks; function-scoped, fresh runtime state per call.

    Usage: `rec = pulumi_run(program, config)` or `pulumi_run(program, stack="dev")` to load `Pulumi.dev.yaml`.
    """
    def run(program: Callable[[], None], config: dict[str, str] | None = None, *, stack: str = "dev",
            project: str = "redis-infra", **kwargs) -> Recording:
        if config is None:
            config = stack_config(ROOT / f"Pulumi.{stack}.yaml", project)
        return run_program(program, config, stack=stack, project=project, **kwargs)

    yield run
