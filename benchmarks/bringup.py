"""Sandbox bring-up time per topology: from nothing to healthy (replication linked, Sentinels agreeing, cluster ok).

Run: `make bench` (or `.venv/bin/python benchmarks/bringup.py [--runs N]`). Prints one line per stack file.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redisinfra.sandbox import Sandbox  # noqa: E402
from redisinfra.stack import load_stack_file  # noqa: E402

STACKS = [
    "examples/standalone.yaml", "examples/replication.yaml", "Pulumi.dev.yaml", "examples/cluster.yaml", "Pulumi.prod.yaml",
]


def measure(stack: str, runs: int) -> tuple[list[float], list[float], int]:
    """Bring-up and teardown seconds of each run, and the number of processes."""
    cfg = load_stack_file(stack)
    ups, downs, count = [], [], 0
    for _ in range(runs):
        box = Sandbox(cfg, timeout=120)
        try:
            box.up()
            ups.append(box.ready_seconds)
            count = len(box.processes)
        finally:
            started = time.monotonic()
            box.down()
            downs.append(time.monotonic() - started)
    return ups, downs, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("stacks", nargs="*", default=STACKS, help="stack files (default: every repository stack)")
    args = parser.parse_args()
    print(f"{'stack':<28} {'topology':<12} {'procs':>5} {'bring-up median':>16} {'min':>7} {'max':>7} {'teardown':>9}")
    for stack in args.stacks:
        cfg = load_stack_file(stack)
        ups, downs, count = measure(stack, args.runs)
        print(f"{stack:<28} {cfg.topology:<12} {count:>5} {statistics.median(ups):>15.2f}s {min(ups):>6.2f}s "
              f"{max(ups):>6.2f}s {statistics.median(downs):>8.2f}s")


if __name__ == "__main__":
    main()
