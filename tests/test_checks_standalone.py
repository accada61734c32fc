"""Post-deploy checks on a standalone node with ACL users: healthy passes everything; then one thing broken at a time
(auth off, a disabled command re-enabled, maxmemory 0, another policy, persistence off, a plaintext port beside TLS,
the wrong CA, a node that does not answer) fails exactly the check that proves it."""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from checks import Settings
from checks.sandbox_hook import after_up
from redisinfra.connection import to_json
from redisinfra.connection import Endpoint
from redisinfra.sandbox import Sandbox
from redisinfra.tlsgen import CertificateAuthority
from tests.checks_support import (check, checks_until, expected_checks, fails, free_port, healthy, not_passed, sandbox,
                                  unused_address, with_endpoint)

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parent.parent

STACK = {"name": "single", "backend": "kubernetes", "topology": "standalone", "memory": {"node_memory": "256mb"},
         "security": {"auth": {"mode": "acl", "users": [{"name": "app"}, {"name": "reporting", "access": "readonly"}]}}}
NODE = "single-0"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with sandbox(STACK) as started:
        yield started


@pytest.fixture
def admin(box: Sandbox):
    """The node as the operator (all commands), to break things; checks that the test restored it."""
    conn = box.client(NODE, user="operator")
    yield conn
    healthy(box.connection)
    conn.close()


def test_healthy_standalone_passes_every_check(box: Sandbox) -> None:
    results = check(box.connection)
    assert not_passed(results) == []
    assert {r.check for r in results} == expected_checks(box.connection)
    assert {r.target for r in results} == {NODE}


def test_auth_off_fails_auth(box: Sandbox, admin) -> None:
    admin.execute_command("ACL", "SETUSER", "default", "on", "nopass", "~*", "+@all")
    try:
        results = check(box.connection)
    finally:
        admin.execute_command("ACL", "SETUSER", "default", "reset")
    found = fails(results)
    assert set(found) == {("auth", NODE)}
    assert "unauthenticated PING answered PONG (auth off)" in found[("auth", NODE)]
    assert "user default accepts the application password" in found[("auth", NODE)]


def test_disabled_command_available_fails_commands(box: Sandbox, admin) -> None:
    admin.execute_command("ACL", "SETUSER", "app", "+flushall", "+keys")
    try:
        results = check(box.connection)
    finally:
        admin.execute_command("ACL", "SETUSER", "app", "-flushall", "-keys")
    assert fails(results) == {("commands", NODE): "FLUSHALL, KEYS available to app (expected disabled)"}
    assert admin.dbsize() >= 0  # the probe queued FLUSHALL inside MULTI and discarded it: nothing was flushed


def test_maxmemory_zero_fails_memory(box: Sandbox, admin) -> None:
    admin.config_set("maxmemory", 0)
    try:
        results = check(box.connection)
    finally:
        admin.config_set("maxmemory", box.connection.expected.maxmemory)
    assert fails(results) == {("memory", NODE): "maxmemory 0 (unlimited), expected 201326592 (192mb)"}


def test_other_policy_fails_memory(box: Sandbox, admin) -> None:
    admin.config_set("maxmemory-policy", "allkeys-lru")
    try:
        results = check(box.connection)
    finally:
        admin.config_set("maxmemory-policy", "volatile-lru")
    assert fails(results) == {("memory", NODE): "maxmemory_policy allkeys-lru, expected volatile-lru"}


def test_persistence_off_fails_persistence(box: Sandbox, admin) -> None:
    admin.config_set("appendonly", "no")
    try:
        results = check(box.connection)
    finally:
        admin.config_set("appendonly", "yes")
    assert fails(results) == {("persistence", NODE): "aof_enabled 0, expected AOF on (persistence both)"}


def test_plaintext_port_beside_tls_fails_tls(box: Sandbox, admin) -> None:
    endpoint = box.connection.endpoints[0]
    port = free_port(endpoint.host)
    admin.config_set("port", port)
    try:
        results = check(box.connection)
    finally:
        admin.config_set("port", 0)
    found = fails(results)
    assert set(found) == {("tls", NODE)}
    assert found[("tls", NODE)].startswith(f"plaintext accepted on {endpoint.host}:{port} beside TLS on {endpoint.port}")


def test_wrong_ca_fails_reach_only(box: Sandbox) -> None:
    other = CertificateAuthority().cert_pem
    connection = box.connection.model_copy(update={"tls": box.connection.tls.model_copy(update={"ca_pem": other})})
    results = check(connection)
    found = fails(results)
    assert set(found) == {("reach", NODE)}
    assert "certificate verify failed" in found[("reach", NODE)]
    assert {r.status for r in results if r.check != "reach"} == {"skip"}


def test_unanswering_nodes_fail_reach_fast(box: Sandbox) -> None:
    connection = box.connection
    refused = Endpoint(name="ghost", host=unused_address(connection), port=6379, role="replica", shard=0, primary=NODE)
    with socket.socket() as silent:  # accepts TCP (backlog) but never speaks: only the timeout ends the wait
        silent.bind((unused_address(connection).rsplit(".", 1)[0] + ".251", 0))
        silent.listen(8)
        host, port = silent.getsockname()
        mute = Endpoint(name="mute", host=host, port=port, role="replica", shard=0, primary=NODE)
        results = check(with_endpoint(with_endpoint(connection, refused), mute), Settings(timeout=1.0, latency_warn_ms=1000))
    found = fails(results)
    assert set(found) == {("reach", "ghost"), ("reach", "mute")}
    assert "Connection refused" in found[("reach", "ghost")]
    assert "imeout" in found[("reach", "mute")]
    assert {r.status for r in results if r.target in ("ghost", "mute") and r.check != "reach"} == {"skip"}


def test_readonly_user_connection_still_checks(box: Sandbox) -> None:
    """The second ACL user (readonly) may not MULTI: disabled commands it cannot probe are reported, not failed."""
    creds = box.connection.credentials.model_copy(update={"username": "reporting", "password": type(
        box.connection.credentials.password)(box.secrets.password("reporting"))})
    connection = box.connection.model_copy(update={"credentials": creds})
    results = checks_until(connection, lambda rs: True, "a run")
    assert ("roundtrip", NODE) in fails(results)  # a readonly user cannot write: the round trip says so
    assert "NoPermissionError" in fails(results)[("roundtrip", NODE)]


def _outputs_file(tmp_path: Path, connection) -> Path:
    path = tmp_path / "outputs.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)  # it holds the password, like `pulumi stack output --show-secrets`
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"connection": json.loads(to_json(connection)), "other": 1}))
    return path


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checks", *args], capture_output=True, text=True, input=stdin,
                          cwd=ROOT, timeout=120)


def test_command_line_table_json_and_exit_codes(box: Sandbox, tmp_path: Path) -> None:
    path = _outputs_file(tmp_path, box.connection)
    done = _run("--outputs", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split() == ["check", "target", "status", "detail"]
    rows = [line.split()[:3] for line in done.stdout.splitlines()[2:-1]]
    assert ["roundtrip", "single-0", "PASS"] in rows and all(row[2] == "PASS" for row in rows)
    assert box.secrets.password("app") not in done.stdout + done.stderr
    piped = _run("--json", stdin=path.read_text())
    report = json.loads(piped.stdout)
    assert piped.returncode == 0 and report["ok"] and report["summary"]["fail"] == 0
    assert {r["check"] for r in report["results"]} >= {"reach", "roundtrip", "tls", "auth", "memory"}
    wrong = box.connection.model_copy(update={"tls": box.connection.tls.model_copy(
        update={"ca_pem": CertificateAuthority().cert_pem})})
    failing = _run("--outputs", str(_write(tmp_path, wrong)))
    assert failing.returncode == 1
    assert ["reach", "single-0", "FAIL"] in [line.split()[:3] for line in failing.stdout.splitlines()]


def _write(tmp_path: Path, connection) -> Path:
    folder = tmp_path / "wrong"
    folder.mkdir()
    return _outputs_file(folder, connection)


def test_make_check_with_outputs_file(box: Sandbox, tmp_path: Path) -> None:
    path = _outputs_file(tmp_path, box.connection)
    done = subprocess.run(["make", "-s", "check", f"OUTPUTS={path}", "JSON=1"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_sandbox_hook_prints_table_and_fails_on_a_failing_check(box: Sandbox, admin, capsys) -> None:
    args = argparse.Namespace(json=False, drill=None)
    assert after_up(box.connection, sandbox=box, args=args) == 0
    assert "checks of single (sandbox, standalone):" in capsys.readouterr().out
    admin.config_set("maxmemory-policy", "noeviction")
    try:
        code = after_up(box.connection, sandbox=box, args=argparse.Namespace(json=True, drill=None))
    finally:
        admin.config_set("maxmemory-policy", "volatile-lru")
    assert code == 1
    assert capsys.readouterr().out == ""  # JSON mode: the sandbox prints one document holding this report
    assert args.checks_report["ok"] is True


def test_sandbox_drill_on_standalone_is_a_bad_argument(box: Sandbox, capsys) -> None:
    assert after_up(box.connection, sandbox=box, args=argparse.Namespace(json=False, drill="failover")) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "error: --drill failover needs topology sentinel or cluster; this deployment is standalone (no automatic failover)"]


def test_rdb_snapshots_off_fail_persistence_when_config_is_readable() -> None:
    """Where CONFIG is allowed (not a disabled command), the RDB schedule is judged; plaintext deployments warn."""
    stack = {"name": "plain", "backend": "ec2", "topology": "standalone", "memory": {"node_memory": "128mb"},
             "persistence": {"mode": "rdb"}, "security": {"tls": {"enabled": False},
                                                          "disabled_commands": ["FLUSHALL", "DEBUG"]}}
    with sandbox(stack) as plain:
        results = check(plain.connection)
        assert [(r.check, r.status, r.detail) for r in not_passed(results)] == [
            ("tls", "warn", "TLS is off for this deployment (tls.enabled false): traffic is plaintext")]
        persistence = next(r for r in results if r.check == "persistence")
        assert persistence.detail.startswith('AOF off, save "3600 1 300 100 60 10000"')
        with plain.client("plain-0", user="operator") as admin:
            admin.config_set("save", "")
            found = fails(check(plain.connection))
        assert found == {("persistence", "plain-0"): 'save "" (RDB snapshots off), expected RDB on (persistence rdb)'}
