"""Docker backend figures: the program under mocks per topology (what the tests and `make preview` pay), and the
Docker containers' exact files brought up on real Redis until healthy (cluster: including the join script).

Run: `.venv/bin/python benchmarks/docker.py [--runs N]`. Prints one line per topology.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redisinfra.mocks import run_program  # noqa: E402
from redisinfra.program import main as program  # noqa: E402
from redisinfra.sandbox import Sandbox  # noqa: E402
from redisinfra.stack import parse_config  # noqa: E402
from tests.test_docker import as_pulumi_config  # noqa: E402
from tests.test_docker_redis import TOPOLOGIES, JoinContainer, free_ports, prebuilt_from  # noqa: E402


def measure(topology: str, runs: int) -> dict[str, list[float] | int]:
    """Seconds per mocked deploy and per real bring-up; resource count."""
    mocked, real, count = [], [], 0
    for _ in range(runs):
        values = free_ports(TOPOLOGIES[topology])
        started = time.monotonic()
        rec = run_program(program, as_pulumi_config(values), stack="dev")
        mocked.append(time.monotonic() - started)
        count = len(rec.registrations)
        join = JoinContainer(rec, values) if values["topology"] == "cluster" else None
        try:
            with Sandbox(parse_config(values), timeout=120, prebuilt=prebuilt_from(rec, values, join)) as box:
                real.append(box.ready_seconds)
        finally:
            if join:
                join.cleanup()
    return {"mocked": mocked, "real": real, "resources": count}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"docker backend, {args.runs} runs each (median, max)")
    for topology in ("standalone", "replication", "sentinel", "cluster"):
        figures = measure(topology, args.runs)
        mocked, real = figures["mocked"], figures["real"]
        assert isinstance(mocked, list) and isinstance(real, list)
        print(f"  {topology:<12} {figures['resources']:>3} resources  mocked deploy {statistics.median(mocked):.2f}s "
              f"(max {max(mocked):.2f}s)  files on real Redis healthy in {statistics.median(real):.2f}s "
              f"(max {max(real):.2f}s)")


if __name__ == "__main__":
    main()
