"""`make up STACK=...` driven as a user runs it, with stand-in `pulumi` and `docker` executables on PATH (neither
exists here): one-line errors when a tool is missing or the stack is bad, and the full sequence (stack select, up,
post-deploy checks on `pulumi stack output`) against real Redis running the Docker stack's exact files."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from redisinfra.connection import Connection
from redisinfra.mocks import run_program
from redisinfra.program import main
from redisinfra.sandbox import Sandbox
from redisinfra.stack import parse_config

from .test_docker import as_pulumi_config
from .test_docker_redis import TOPOLOGIES, free_ports, prebuilt_from

REPO = Path(__file__).resolve().parent.parent


def _tool(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _up(args: list[str], bin_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    # PATH holds only the stand-ins and the basics (sh, cat, redis-cli): no real pulumi or docker can leak in.
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "redisinfra.up", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


def _stack(root: Path, name: str, values: dict[str, Any]) -> None:
    (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {f"redis:{k}": v for k, v in values.items()}}))


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return bin_dir


def test_missing_pulumi_cli_is_one_line(tools: Path, tmp_path: Path) -> None:
    done = _up(["dev", "--root", str(REPO)], tools, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "the Pulumi CLI is not installed" in done.stderr


def test_missing_docker_is_one_line(tools: Path, tmp_path: Path) -> None:
    _tool(tools, "pulumi", "exit 0\n")
    done = _up(["dev", "--root", str(REPO)], tools, tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == (
        "error: Docker is not installed (https://docs.docker.com/engine/install/); backend 'docker' needs it")


def test_stopped_docker_engine_is_one_line(tools: Path, tmp_path: Path) -> None:
    _tool(tools, "pulumi", "exit 0\n")
    _tool(tools, "docker", "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2; exit 1\n")
    done = _up(["dev", "--root", str(REPO)], tools, tmp_path)
    assert done.returncode == 2 and "the Docker engine is not reachable (Cannot connect to the Docker daemon" in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_bad_stack_file_names_the_key_before_any_tool(tools: Path, tmp_path: Path) -> None:
    _stack(tmp_path, "bad", {"backend": "docker", "topology": "sentinel", "docker": {"publish_adress": "127.0.0.1"}})
    done = _up(["bad", "--root", str(tmp_path)], tools, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: Pulumi.bad.yaml: redis:docker.publish_adress: unknown key; did you mean "
                                   "'publish_address'? allowed: announce_host, cpus, exporter, exporter_image, "
                                   "exporter_port, health_interval_s, image, publish_address, sentinel_memory")


@pytest.mark.redis
def test_up_deploys_then_runs_the_checks(tools: Path, tmp_path: Path) -> None:
    values = free_ports(TOPOLOGIES["sentinel"])
    _stack(tmp_path, "dev", values)
    # What `pulumi up` would produce, here from the program under mocks; nodes run its exact files locally.
    rec = run_program(main, as_pulumi_config(values), stack="dev")
    outputs = tmp_path / "outputs.json"
    fd = os.open(outputs, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(rec.outputs, handle)
    log = tmp_path / "pulumi.log"
    _tool(tools, "pulumi", f'echo "$*" >> {log}\nif [ "$1 $2" = "stack output" ]; then cat {outputs}; fi\nexit 0\n')
    _tool(tools, "docker", "echo 27.3.1\n")
    with Sandbox(parse_config(values), timeout=60, prebuilt=prebuilt_from(rec, values)):
        done = _up(["dev", "--root", str(tmp_path), "--yes", "--json"], tools, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert log.read_text().splitlines() == ["stack select --create dev", "up --stack dev --yes",
                                            "stack output --json --show-secrets -s dev"]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    connection = Connection.model_validate(rec.outputs["connection"])
    assert connection.credentials.password.get_secret_value() not in done.stdout + done.stderr


@pytest.mark.redis
def test_up_fails_when_a_check_fails(tools: Path, tmp_path: Path) -> None:
    values = free_ports(TOPOLOGIES["standalone"])
    _stack(tmp_path, "dev", values)
    rec = run_program(main, as_pulumi_config(values), stack="dev")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(rec.outputs))
    _tool(tools, "pulumi", f'if [ "$1 $2" = "stack output" ]; then cat {outputs}; fi\nexit 0\n')
    _tool(tools, "docker", "echo 27.3.1\n")
    done = _up(["dev", "--root", str(tmp_path), "--yes"], tools, tmp_path)  # nothing runs: every check fails
    assert done.returncode == 1, done.stdout + done.stderr


def test_failed_pulumi_up_stops_before_the_checks(tools: Path, tmp_path: Path) -> None:
    log = tmp_path / "pulumi.log"
    _tool(tools, "pulumi", f'echo "$*" >> {log}\n[ "$1" = up ] && exit 255\nexit 0\n')
    _tool(tools, "docker", "echo 27.3.1\n")
    done = _up(["dev", "--root", str(REPO)], tools, tmp_path)
    assert done.returncode == 1 and "pulumi up --stack dev failed (exit 255)" in done.stderr
    assert "stack output" not in log.read_text()
