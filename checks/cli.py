"""`python -m checks`: post-deploy checks of a deployment from its stack outputs.

Outputs come from `--outputs FILE` (`-` or no option with piped input = standard input) or
`--stack NAME` (`pulumi stack output --json --show-secrets`). Exit codes (DESIGN.md): 0 all checks passed,
1 a check (or the drill) failed, 2 bad input with a one-line error.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import redis

from redisinfra.connection import Connection

from . import report
from .context import one_line
from .drill import DRILL_TOPOLOGIES, DrillError, run_drill
from .model import Settings
from .outputs import OutputsError, from_pulumi, read_file
from .runner import exit_code, run_checks


class UsageError(Exception):
    """Bad arguments (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = _Parser(prog="python -m checks", description=__doc__.splitlines()[0])
    source = p.add_mutually_exclusive_group()
    source.add_argument("--outputs", metavar="FILE", help="JSON object of stack outputs (`-`: standard input)")
    source.add_argument("--stack", metavar="NAME", help="read `pulumi stack output --json --show-secrets -s NAME`")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.add_argument("--drill", choices=["failover"], help="also run a failover drill (Sentinel or Cluster)")
    p.add_argument("--timeout", type=_positive, default=Settings.timeout, help="seconds per network call (default 3)")
    p.add_argument("--max-lag", type=int, default=Settings.max_lag_seconds, help="replication lag limit, seconds")
    p.add_argument("--latency-warn-ms", type=_positive, default=Settings.latency_warn_ms, help="p99 PING warning, ms")
    return p


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def drill_refusal(connection: Connection) -> str:
    """The one-line error for a drill asked of a topology without automatic failover."""
    return (f"--drill failover needs topology {' or '.join(DRILL_TOPOLOGIES)}; "
            f"this deployment is {connection.topology} (no automatic failover)")


def settings_of(args: argparse.Namespace) -> Settings:
    """Settings from parsed arguments."""
    return Settings(timeout=args.timeout, max_lag_seconds=args.max_lag, latency_warn_ms=args.latency_warn_ms)


def load(args: argparse.Namespace) -> Connection:
    """The connection contract from the chosen source."""
    if args.stack:
        return from_pulumi(args.stack)
    if args.outputs:
        return read_file(args.outputs)
    if sys.stdin.isatty():
        raise UsageError("give --outputs FILE, --stack NAME, or pipe the outputs JSON on standard input")
    return read_file("-")


def check_and_report(connection: Connection, *, settings: Settings, drill: str | None, as_json: bool,
                     out=None) -> tuple[int, dict]:
    """Run the checks (and the drill), print the table or the JSON; returns (exit code, JSON report)."""
    out = out or sys.stdout
    results = run_checks(connection, settings)
    code = exit_code(results)
    extra: dict = {}
    if not as_json:
        print(report.table(results, f"checks of {connection.name} ({connection.backend}, {connection.topology}):"),
              file=out, flush=True)
    if drill:
        try:
            outcome = run_drill(connection, settings)
        except (DrillError, redis.RedisError, OSError) as error:
            # A network error the drill did not turn into a DrillError still fails it in one line, never a traceback.
            outcome = None
            error = error if isinstance(error, DrillError) else DrillError(one_line(error))
            extra["drill"] = {"ok": False, "error": str(error)}
            code = 1
            if not as_json:
                print(f"drill failover: FAIL {error}", file=out, flush=True)
        if outcome is not None:
            extra["drill"] = outcome.as_dict()
            code = max(code, 0 if outcome.ok else 1, exit_code(outcome.after))
            if not as_json:
                print(outcome.summary_line(), file=out, flush=True)
                print(report.table(outcome.after, "checks after the failover:"), file=out, flush=True)
    data = report.as_json(results, **extra)
    data["ok"] = code == 0
    if as_json:
        print(report.dumps(data), file=out, flush=True)
    return code, data


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit code."""
    try:
        args = parser().parse_args(argv)
        connection = load(args)
        if args.drill and connection.topology not in DRILL_TOPOLOGIES:
            raise UsageError(drill_refusal(connection))
        code, _ = check_and_report(connection, settings=settings_of(args), drill=args.drill, as_json=args.json)
        return code
    except (OutputsError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
