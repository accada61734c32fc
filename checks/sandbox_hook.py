"""The sandbox's post-bring-up hook: `make sandbox` runs the checks (and with DRILL=1 the drill) on what it started."""
from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from redisinfra.connection import Connection

from .cli import check_and_report, drill_refusal
from .drill import DRILL_TOPOLOGIES
from .model import Settings


def after_up(connection: Connection, *, sandbox: Any = None, args: argparse.Namespace) -> int:
    """Run the checks on the sandbox's connection; print the table (JSON mode: keep the report for the caller).

    Returns the exit code contribution: 1 when a check or the drill failed, 2 for a drill on a topology without
    failover (bad arguments), else 0.
    """
    as_json = bool(getattr(args, "json", False))
    drill = getattr(args, "drill", None)
    if drill and connection.topology not in DRILL_TOPOLOGIES:
        print(f"error: {drill_refusal(connection)}", file=sys.stderr, flush=True)
        args.checks_report = {"ok": False, "error": drill_refusal(connection)}
        return 2  # bad arguments: nothing is checked, the sandbox is torn down
    sink = io.StringIO() if as_json else None  # JSON mode: the sandbox prints one JSON document, ours goes inside
    code, data = check_and_report(connection, settings=Settings(), drill=drill,
                                  as_json=as_json, out=sink)
    args.checks_report = data
    return code
