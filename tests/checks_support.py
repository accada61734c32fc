"""Helpers for the post-deploy check tests: sandbox stack configs, running the checks, reading the verdicts."""
from __future__ import annotations

import re
import socket
import subprocess
import time
from typing import Callable, Iterable

from checks import Result, Settings, run_checks
from checks.runner import CHECK_NAMES
from redisinfra.config import ENGINE_VERSIONS
from redisinfra.connection import Connection, Endpoint
from redisinfra.sandbox import Sandbox, server_binary
from redisinfra.stack import parse_config

# Generous latency threshold: a loaded 2-core CI machine must not turn a healthy run into a warning.
SETTINGS = Settings(timeout=2.0, latency_warn_ms=1000.0)
FAST_SENTINEL = {"down_after_ms": 1000, "failover_timeout_ms": 5000}


def installed_version() -> str:
    """major.minor of the installed redis-server, so the `version` check expects what really runs."""
    text = subprocess.run([server_binary("redis"), "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"v=(\d+\.\d+)", text)
    assert found, text
    version = found.group(1)
    assert version in ENGINE_VERSIONS["redis"], f"installed redis-server {version} is not a supported version"
    return version


def config(values: dict):
    """A stack config for the sandbox with the installed engine version."""
    return parse_config({"version": installed_version(), **values}, "test stack")


def sandbox(values: dict) -> Sandbox:
    """A sandbox for a test stack (use as a context manager)."""
    return Sandbox(config(values), timeout=60)


def check(connection: Connection, settings: Settings = SETTINGS) -> list[Result]:
    """Run every check."""
    return run_checks(connection, settings)


def fails(results: Iterable[Result]) -> dict[tuple[str, str], str]:
    """(check, target) -> detail of every failed result."""
    return {(r.check, r.target): r.detail for r in results if r.status == "fail"}


def not_passed(results: Iterable[Result]) -> list[Result]:
    """Every result that is not a pass."""
    return [r for r in results if r.status != "pass"]


def wait_for(what: str, probe: Callable[[], list[Result] | None], timeout: float = 20.0) -> list[Result]:
    """Run `probe` until it returns results (not None); AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        results = probe()
        if results is not None:
            return results
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def checks_until(connection: Connection, condition: Callable[[list[Result]], bool], what: str,
                 timeout: float = 20.0) -> list[Result]:
    """Re-run the checks until `condition(results)` holds (a broken or restored state takes a moment to show)."""
    def probe() -> list[Result] | None:
        results = check(connection)
        return results if condition(results) else None
    return wait_for(what, probe, timeout)


def healthy(connection: Connection, timeout: float = 30.0) -> list[Result]:
    """Wait until every check passes (after restoring what a test broke)."""
    return checks_until(connection, lambda rs: not not_passed(rs), "every check to pass", timeout)


def expected_checks(connection: Connection) -> set[str]:
    """The check names that must appear for a topology."""
    names = set(CHECK_NAMES) - {"sentinel", "sentinel-agree", "cluster"}
    if connection.topology == "sentinel":
        names |= {"sentinel", "sentinel-agree"}
    if connection.topology == "cluster":
        names |= {"cluster"}
    return names


def unused_address(connection: Connection) -> str:
    """A loopback address in the sandbox's /24 that nothing listens on."""
    a, b, c, _ = connection.endpoints[0].host.split(".")
    return f"{a}.{b}.{c}.250"


def with_endpoint(connection: Connection, endpoint: Endpoint) -> Connection:
    """The contract plus one more endpoint."""
    return connection.model_copy(update={"endpoints": [*connection.endpoints, endpoint]})


def free_port(host: str) -> int:
    """A port nothing listens on at host."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
