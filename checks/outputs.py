"""Reading the stack outputs (`{"connection": {...}, ...}`) from a file, standard input or the Pulumi CLI.

Every problem is an `OutputsError` whose str() is one line (exit 2).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from typing import IO

from pydantic import ValidationError

from redisinfra.connection import Connection

PULUMI_TIMEOUT = 120.0


class OutputsError(Exception):
    """Bad or missing outputs: one line naming the key and what is allowed."""


def parse_outputs(text: str, source: str) -> Connection:
    """The `connection` output of a JSON object of stack outputs."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OutputsError(f"{source}: not valid JSON: {error.msg} (line {error.lineno} column {error.colno})") from None
    if not isinstance(data, dict):
        raise OutputsError(f"{source}: expected a JSON object of stack outputs, got {type(data).__name__}")
    if "connection" not in data:
        keys = ", ".join(sorted(map(str, data))) or "none"
        raise OutputsError(f"{source}: no `connection` output (outputs present: {keys}); deploy with this project's program")
    try:
        return Connection.model_validate(data["connection"])
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in ("connection", *first["loc"]))
        message = first["msg"]
        if first["type"] == "literal_error":
            message = f"{first['input']!r} is not allowed (allowed: {first['ctx']['expected']})"
        elif first["type"] == "extra_forbidden":
            message = "unknown key (see schema/connection.schema.json)"
        text_line = " ".join(f"{source}: {where}: {message}".split())
        raise OutputsError(f"{text_line} (schema/connection.schema.json)") from None


def read_file(path: str) -> Connection:
    """Outputs from a file (`-` = standard input)."""
    if path == "-":
        import sys

        return read_stream(sys.stdin, "stdin")
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_outputs(handle.read(), path)
    except FileNotFoundError:
        raise OutputsError(f"{path}: no such outputs file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise OutputsError(f"{path}: cannot read: {' '.join(str(error).split())}") from None


def read_stream(stream: IO[str], source: str) -> Connection:
    """Outputs from an open stream."""
    return parse_outputs(stream.read(), source)


def from_pulumi(stack: str, cwd: str | None = None) -> Connection:
    """`pulumi stack output --json --show-secrets -s <stack>`: the only place the Pulumi CLI is used."""
    binary = shutil.which("pulumi")
    if binary is None:
        raise OutputsError("the pulumi CLI is not installed (https://www.pulumi.com/docs/install/); "
                           "or pass the outputs: make check OUTPUTS=file.json")
    # The outputs carry secrets: they travel through a pipe, never argv, env or a file.
    try:
        done = subprocess.run([binary, "stack", "output", "--json", "--show-secrets", "-s", stack], cwd=cwd,
                              capture_output=True, text=True, timeout=PULUMI_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise OutputsError(f"pulumi stack output -s {stack}: no answer within {PULUMI_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise OutputsError(f"pulumi stack output -s {stack}: {' '.join(last.split())}")
    return parse_outputs(done.stdout, f"stack {stack}")
