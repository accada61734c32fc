"""`make up STACK=dev`: validate the stack file, check the tools, `pulumi up`, then the post-deploy checks.

    python -m redisinfra.up dev [--yes] [--json]

Exit codes: 0 deployed and every check passed; 1 `pulumi up` or a check failed; 2 bad input or a missing tool
(one line naming it: the stack file key, the Pulumi CLI, or the Docker engine for `backend: docker`).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from .stack import ConfigError, load_stack_file, stack_file

ROOT = Path(__file__).resolve().parent.parent
DOCKER_PROBE_TIMEOUT = 20.0


class Missing(Exception):
    """A prerequisite is missing: one line saying which and how to get it."""


def require_pulumi() -> str:
    """Path of the Pulumi CLI, or Missing."""
    binary = shutil.which("pulumi")
    if binary is None:
        raise Missing("the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); "
                      "`make sandbox` runs the same stack without it")
    return binary


def require_docker() -> None:
    """The Docker CLI is installed and its engine answers, or Missing."""
    binary = shutil.which("docker")
    if binary is None:
        raise Missing("Docker is not installed (https://docs.docker.com/engine/install/); backend 'docker' needs it")
    try:
        done = subprocess.run([binary, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True,
                              timeout=DOCKER_PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Missing(f"the Docker engine did not answer within {DOCKER_PROBE_TIMEOUT:.0f}s; is it running?") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise Missing(f"the Docker engine is not reachable ({' '.join(last.split())}); start Docker and retry")


def run(argv: Sequence[str] | None = None) -> int:
    """The whole `make up`: returns the exit code."""
    parser = argparse.ArgumentParser(prog="make up", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--yes", action="store_true", help="do not ask before applying (pulumi up --yes)")
    parser.add_argument("--json", action="store_true", help="checks report as JSON")
    parser.add_argument("--root", default=str(ROOT), help="the Pulumi project directory (default: this repository)")
    args = parser.parse_args(argv)
    name, root = args.stack, Path(args.root)
    try:
        path = stack_file(name, root)
        cfg = load_stack_file(path)
        if path.suffix in (".yaml", ".yml") and not path.name.startswith("Pulumi."):
            raise ConfigError(f"{path}: `make up` deploys a Pulumi stack; give its name (Pulumi.<stack>.yaml)")
        stack = path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        pulumi = require_pulumi()
        if cfg.backend == "docker":
            require_docker()
    except (ConfigError, Missing) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    # The Pulumi CLI talks to the user directly (preview, confirmation, progress); secrets stay in its state.
    selected = subprocess.run([pulumi, "stack", "select", "--create", stack], cwd=root)
    if selected.returncode != 0:
        print(f"error: pulumi stack select --create {stack} failed", file=sys.stderr, flush=True)
        return 1
    applied = subprocess.run([pulumi, "up", "--stack", stack] + (["--yes"] if args.yes else []), cwd=root)
    if applied.returncode != 0:
        print(f"error: pulumi up --stack {stack} failed (exit {applied.returncode})", file=sys.stderr, flush=True)
        return 1
    # Imported late: the checks need nothing of the above (and nothing of Pulumi but `pulumi stack output`).
    from checks.cli import check_and_report, parser as checks_parser, settings_of
    from checks.outputs import OutputsError, from_pulumi

    try:
        connection = from_pulumi(stack, cwd=str(root))
    except OutputsError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    code, _ = check_and_report(connection, settings=settings_of(checks_parser().parse_args([])), drill=None,
                               as_json=args.json)
    return code


if __name__ == "__main__":
    sys.exit(run())
