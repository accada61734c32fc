"""`python -m checks` / `make check` on bad input: exit 2 with one line naming what is wrong, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from redisinfra.connection import Connection, Credentials, Endpoint, Expected, TLSInfo, to_json

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checks", *args], capture_output=True, text=True, input=stdin,
                          cwd=ROOT, timeout=60, env=env)


def _one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def _connection() -> dict:
    connection = Connection(
        name="x", backend="docker", topology="standalone", tls=TLSInfo(enabled=False),
        credentials=Credentials(password="secret-password-1"),
        endpoints=[Endpoint(name="x-0", host="127.0.0.1", port=6379, role="primary", shard=0)],
        expected=Expected(engine="redis", version="7.0", maxmemory=1, maxmemory_policy="noeviction",
                          persistence="none", shards=1, replicas_per_shard=0, acl=False))
    return json.loads(to_json(connection))


@pytest.mark.parametrize("text, message", [
    ("{not json", "stdin: not valid JSON: Expecting property name enclosed in double quotes (line 1 column 2)"),
    ("[1, 2]", "stdin: expected a JSON object of stack outputs, got list"),
    ('{"endpoint": "x"}', "stdin: no `connection` output (outputs present: endpoint)"),
])
def test_bad_outputs_exit_2_with_one_line(text: str, message: str) -> None:
    assert message in _one_line_error(_run("--outputs", "-", stdin=text))


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(backend="azure"), "connection.backend: 'azure' is not allowed (allowed: 'elasticache', "),
    (lambda c: c.pop("expected"), "connection.expected: Field required (schema/connection.schema.json)"),
    (lambda c: c["endpoints"][0].update(port=70000), "connection.endpoints.0.port: Input should be less than or equal to 65535"),
    (lambda c: c.update(surprise=1), "connection.surprise: unknown key (see schema/connection.schema.json)"),
])
def test_outputs_not_matching_the_schema_exit_2(change, message: str, tmp_path: Path) -> None:
    connection = _connection()
    change(connection)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"connection": connection}))
    line = _one_line_error(_run("--outputs", str(path)))
    assert message in line
    assert "secret-password-1" not in line


def test_missing_file_and_bad_arguments_exit_2() -> None:
    assert _one_line_error(_run("--outputs", "/nonexistent/outputs.json")) == \
        "error: /nonexistent/outputs.json: no such outputs file"
    assert "--timeout: '0' must be above 0" in _one_line_error(_run("--outputs", "-", "--timeout", "0"))
    assert "invalid choice: 'chaos'" in _one_line_error(_run("--drill", "chaos"))


def test_stack_without_pulumi_cli_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # an empty PATH: no pulumi anywhere
    line = _one_line_error(_run("--stack", "dev", env=env))
    assert line.startswith("error: the pulumi CLI is not installed")
    assert "make check OUTPUTS=file.json" in line


def test_make_check_stack_without_pulumi_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    done = subprocess.run(["make", "-s", "check", "STACK=dev"], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith("error: the pulumi CLI is not installed")


def test_drill_on_a_topology_without_failover_exits_2(tmp_path: Path) -> None:
    """Asking a drill of a deployment that cannot fail over is a bad argument: one line, exit 2, nothing dialled."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"connection": _connection()}))
    line = _one_line_error(_run("--outputs", str(path), "--drill", "failover"))
    assert line == ("error: --drill failover needs topology sentinel or cluster; this deployment is standalone "
                    "(no automatic failover)")
