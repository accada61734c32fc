"""Command line of the core: `validate`, `sandbox` and `sandbox-down` (the Makefile's targets call these).

Exit codes (DESIGN.md): 0 all good, 1 not healthy / a check failed, 2 bad input with a one-line error.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

from .connection import to_json
from .stack import ConfigError, load_stack_file, stack_file

STATE_DIR = Path(os.environ.get("REDIS_INFRA_STATE", ".sandbox"))


class UsageError(Exception):
    """Bad arguments (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load(stack: str):
    return load_stack_file(stack_file(stack))


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate stack files; print one line each."""
    for stack in args.stacks:
        cfg = _load(stack)
        print(f"{stack_file(stack)}: ok ({cfg.backend}, {cfg.topology}, {cfg.engine} {cfg.version})")
    return 0


class _Signals:
    """SIGINT/SIGTERM/SIGHUP: the first interrupts bring-up or checks (KeyboardInterrupt); teardown is never cut."""

    def __init__(self) -> None:
        self.interrupted = False
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt(f"signal {signum}")

    def shield(self) -> None:
        """From now on signals are ignored: the teardown runs to its end."""
        self.interrupted = True
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)


LOCAL_TOPOLOGIES = ("standalone", "replication", "sentinel", "cluster")


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Bring a stack up as local processes, verify it, print the connection, tear it down (unless --keep)."""
    import redis

    from .sandbox import Sandbox, SandboxError, save_state

    cfg = _load(args.stack)
    if cfg.topology not in LOCAL_TOPOLOGIES:
        raise UsageError(f"{stack_file(args.stack).name}: redis:topology: {cfg.topology!r} is a managed service and "
                         f"cannot be realised locally (allowed: {', '.join(LOCAL_TOPOLOGIES)})")
    state_file = STATE_DIR / "state.json"
    if args.keep and state_file.exists():
        raise UsageError(f"a kept sandbox is already running ({state_file}); run `make sandbox-down` first")
    say = (lambda *_a, **_k: None) if args.json else print
    signals = _Signals()
    code, kept, sandbox = 0, False, None
    try:
        sandbox = Sandbox(cfg, keep=args.keep, timeout=args.timeout)
        data, sentinels = len(sandbox.plan.nodes), len(sandbox.plan.sentinels)
        tls = "TLS" if cfg.security.tls.enabled else "plaintext"
        say(f"sandbox {stack_file(args.stack)}: {cfg.topology} ({data} data nodes"
            f"{f' + {sentinels} Sentinels' if sentinels else ''}), {tls}, auth {cfg.security.auth.mode}, "
            f"{cfg.engine} {cfg.version} config on {os.path.basename(_binary(cfg.engine))}", flush=True)
        connection = sandbox.up()
        say(f"up and healthy in {sandbox.ready_seconds:.2f}s")
        for node in sandbox.plan.all_nodes:
            say(f"  {node.name:<22} {node.role:<8} {node.address}:{node.port}"
                f"{f'  shard {node.shard}' if cfg.topology == 'cluster' else ''}{f'  {node.zone}' if node.zone else ''}")
        from checks.sandbox_hook import after_up  # post-deploy checks (+ drill with --drill), issue 3

        code = after_up(connection, sandbox=sandbox, args=args)
        if args.json:
            print(json.dumps({"ready_seconds": round(sandbox.ready_seconds, 3),
                              "checks": getattr(args, "checks_report", None),
                              "connection": json.loads(to_json(connection, reveal=False))}))
        else:
            print("connection (stack output `connection`, secrets masked):")
            print(to_json(connection, reveal=False))
        if args.keep:
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            save_state(state_file, sandbox)
            secret_file = STATE_DIR / "connection.json"
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps({"connection": json.loads(to_json(connection))}, indent=2))
            kept = True
            say(f"kept running; outputs with secrets: {secret_file} (make check OUTPUTS={secret_file}); "
                "stop with `make sandbox-down`")
        return code
    except SandboxError as error:
        _stderr(f"sandbox: {error}")
        return 1
    except (redis.RedisError, OSError) as error:
        _stderr(f"sandbox: {type(error).__name__}: {' '.join(str(error).split())}")
        return 1
    except KeyboardInterrupt:
        _stderr("sandbox: interrupted; tearing down")
        return 130
    finally:
        signals.shield()
        if sandbox is not None and not kept:
            started = time.monotonic()
            stopped = sum(1 for p in sandbox.processes.values() if p.pid)
            sandbox.down()
            say(f"torn down: {stopped} processes stopped, {sandbox.base_dir} removed "
                f"({time.monotonic() - started:.2f}s)")


def _binary(engine: str) -> str:
    from .sandbox import SandboxError, server_binary

    try:
        return server_binary(engine)
    except SandboxError:
        return "redis-server (missing)"


def cmd_sandbox_down(_args: argparse.Namespace) -> int:
    """Stop a sandbox kept with --keep."""
    from .sandbox import stop_state

    state_file = STATE_DIR / "state.json"
    if not state_file.exists():
        print("no kept sandbox")
        return 0
    try:
        state = json.loads(state_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"{state_file}: unreadable state ({error}); remove it by hand") from None
    stopped = stop_state(state)
    for name in ("state.json", "connection.json"):
        (STATE_DIR / name).unlink(missing_ok=True)
    print(f"stopped {len(stopped)} processes of sandbox {state.get('name')}; removed {state.get('base_dir')}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = _Parser(prog="redis-infra", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="validate stack files")
    v.add_argument("stacks", nargs="+", help="stack names (dev) or stack files")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("sandbox", help="realise a stack as local Redis processes, verify, tear down")
    s.add_argument("stack", nargs="?", default="dev", help="stack name (dev) or stack file (default dev)")
    s.add_argument("--keep", action="store_true", help="leave it running (stop with sandbox-down)")
    s.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    s.add_argument("--drill", choices=["failover"], help="also run a failover drill")
    s.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for health (default 90)")
    s.set_defaults(func=cmd_sandbox)
    d = sub.add_parser("sandbox-down", help="stop a kept sandbox")
    d.set_defaults(func=cmd_sandbox_down)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit code."""
    try:
        args = parser().parse_args(argv)
        return args.func(args)
    except (ConfigError, UsageError) as error:
        _stderr(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
