"""`make sandbox DRILL=1`: the sandbox runs the post-deploy checks and the failover drill on what it brought up."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.checks_support import installed_version

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parent.parent

STACK = """config:
  redis:name: drill
  redis:backend: docker
  redis:topology: sentinel
  redis:version: "{version}"
  redis:replicas: 1
  redis:zones: [a, b]
  redis:sentinel:
    down_after_ms: 1000
    failover_timeout_ms: 5000
  redis:memory:
    node_memory: 128mb
"""


def test_make_sandbox_runs_checks_and_drill(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.drill.yaml"
    stack.write_text(STACK.format(version=installed_version()))
    done = subprocess.run(["make", "-s", "sandbox", f"STACK={stack}", "DRILL=1", "JSON=1"], capture_output=True,
                          text=True, cwd=ROOT, timeout=240, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                                 "REDIS_INFRA_STATE": str(tmp_path / "state")})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    checks = report["checks"]
    assert checks["ok"] is True and checks["summary"]["fail"] == 0
    assert {r["check"] for r in checks["results"]} >= {"reach", "roundtrip", "sentinel", "sentinel-agree"}
    drill = checks["drill"]
    assert drill["ok"] is True and drill["lost"] == 0 and drill["acknowledged"] > 0
    assert drill["old_primary"] == "drill-0" and drill["new_primary"] == "drill-1"
    assert drill["time_to_writable_seconds"] is not None
    assert report["connection"]["credentials"]["password"] == "********"
