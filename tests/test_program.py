"""`__main__.py` under Pulumi mocks: both repository stacks load and validate; a bad one registers nothing."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from redisinfra.mocks import stack_config
from redisinfra.program import main

ROOT = Path(__file__).resolve().parent.parent


def run_main_file() -> None:
    """Exactly what the Pulumi engine runs: the project's __main__.py."""
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")


@pytest.mark.parametrize("stack, topology, nodes", [("dev", "sentinel", 6), ("prod", "cluster", 9)])
def test_repository_stacks_load(pulumi_run, stack: str, topology: str, nodes: int) -> None:
    recording = pulumi_run(run_main_file, stack=stack)
    plan = recording.outputs["plan"]
    assert plan["topology"] == topology and len(plan["nodes"]) == nodes
    assert recording.outputs["connection"]["topology"] == topology
    assert "connection" in recording.secret_outputs  # it carries the password


def test_bad_stack_stops_before_any_resource(pulumi_run, tmp_path: Path) -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace("    quorum: 2\n", "    quorum: 1\n")
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(text)
    with pytest.raises(Exception) as caught:
        pulumi_run(main, stack_config(stack), stack="bad")
    message = str(caught.value)
    assert "redis:sentinel.quorum: 1 is not a majority of 3 Sentinels (allowed: 2..3)" in message
    assert "\n" not in message.strip()
