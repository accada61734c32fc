"""The drill's tail end fails as a one-line DrillError (CLI exit 1), never a traceback: the new primary unreachable
when counting lost writes, or recorded under a name (a `host:port` fallback) that is no endpoint of the contract."""
from __future__ import annotations

import io
import socket

import pytest

import checks.cli as cli
import checks.drill as drill
from checks.context import Context
from checks.drill import DrillError, _endpoint_named, _lost
from redisinfra.connection import Connection, Endpoint, from_plan
from redisinfra.credentials import Secrets, user_names
from redisinfra.plan import build_plan
from tests.checks_support import SETTINGS, config

STACK = {"name": "ha", "backend": "docker", "topology": "sentinel", "memory": {"node_memory": "128mb"},
         "security": {"tls": {"enabled": False}}}


def _connection() -> Connection:
    cfg = config(STACK)
    secrets = Secrets({u: "P4ssw0rdP4ssw0rd" for u in user_names(cfg)}, "S3ntinelS3ntinel")
    return from_plan(build_plan(cfg), secrets, None)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on exit: connections to it are refused


def test_new_primary_under_an_unknown_name_is_a_drill_error() -> None:
    ctx = Context(_connection(), SETTINGS)
    with pytest.raises(DrillError) as failure:
        _endpoint_named(ctx, "10.9.9.9:6379")
    assert "10.9.9.9:6379" in str(failure.value) and "\n" not in str(failure.value)


def test_new_primary_under_a_host_port_fallback_name_is_resolved() -> None:
    connection = _connection()
    ctx = Context(connection, SETTINGS)
    fallback = Endpoint(name="10.9.9.9:6379", host="10.9.9.9", port=6379, role="primary")
    assert _endpoint_named(ctx, fallback.name, {fallback.name: fallback}) is fallback
    first = connection.endpoints[0]
    assert _endpoint_named(ctx, first.name, {}) == first


def test_unreachable_new_primary_when_counting_losses_is_a_drill_error() -> None:
    ctx = Context(_connection(), SETTINGS)
    gone = Endpoint(name="ha-1", host="127.0.0.1", port=_closed_port(), role="primary")
    with pytest.raises(DrillError) as failure:
        _lost(ctx, gone, [("k", "1")], ["k"])
    message = str(failure.value)
    assert "ha-1" in message and "lost" in message and "\n" not in message


def test_cli_reports_a_failing_drill_tail_in_one_line_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = _connection()
    port = _closed_port()

    def tail_end(ctx: Context):
        # What `_drive` does once a write succeeded on a node recorded as `host:port` that then went away.
        new = Endpoint(name=f"127.0.0.1:{port}", host="127.0.0.1", port=port, role="primary")
        return _lost(ctx, _endpoint_named(ctx, new.name, {new.name: new}), [("k", "1")], ["k"])

    monkeypatch.setattr(drill, "_sentinel_drill", tail_end)
    monkeypatch.setattr(drill, "_context", lambda c, s: Context(c, s))
    monkeypatch.setattr(cli, "run_checks", lambda c, s: [])
    out = io.StringIO()
    code, data = cli.check_and_report(connection, settings=SETTINGS, drill="failover", as_json=False, out=out)
    assert code == 1 and data["drill"]["ok"] is False
    lines = [line for line in out.getvalue().splitlines() if line.startswith("drill failover:")]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], out.getvalue()


def test_cli_turns_a_stray_network_error_of_the_drill_into_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(connection, settings):
        raise ConnectionResetError("Connection reset by peer\nwhile reading")

    monkeypatch.setattr(cli, "run_drill", broken)
    monkeypatch.setattr(cli, "run_checks", lambda c, s: [])
    out = io.StringIO()
    code, data = cli.check_and_report(_connection(), settings=SETTINGS, drill="failover", as_json=False, out=out)
    assert code == 1 and "Connection reset by peer while reading" in data["drill"]["error"]
    assert [line for line in out.getvalue().splitlines() if line.startswith("drill failover:")] == [
        "drill failover: FAIL ConnectionResetError: Connection reset by peer while reading"]
