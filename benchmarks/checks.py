"""Post-deploy checks: wall time of the full check run, and the failover drill's time-to-writable and writes lost.

Topologies: the dev stack (Pulumi.dev.yaml: primary + 2 replicas + 3 Sentinels, TLS, auth) and a 3x2 Redis Cluster,
each brought up in the sandbox. Run: `make bench-checks` (or `.venv/bin/python benchmarks/checks.py [--runs N]`).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks import Settings, run_checks  # noqa: E402
from checks.drill import run_drill  # noqa: E402
from checks.runner import summary  # noqa: E402
from redisinfra.config import StackConfig  # noqa: E402
from redisinfra.sandbox import Sandbox  # noqa: E402
from redisinfra.stack import load_stack_file, parse_config  # noqa: E402

CLUSTER_3X2 = {"name": "bench", "backend": "docker", "topology": "cluster", "replicas": 2, "cluster": {"shards": 3},
               "zones": ["zone-a", "zone-b", "zone-c"], "memory": {"node_memory": "128mb"}}


def stacks() -> list[tuple[str, StackConfig]]:
    """The benchmarked stacks."""
    return [("Pulumi.dev.yaml (sentinel 1+2, 3 Sentinels)", load_stack_file(Path(__file__).parent.parent / "Pulumi.dev.yaml")),
            ("cluster 3x2", parse_config(CLUSTER_3X2, "benchmark"))]


def measure(label: str, cfg: StackConfig, runs: int) -> None:
    """Print the check-run wall times and one drill."""
    settings = Settings()
    with Sandbox(cfg, timeout=120) as box:
        assert box.connection is not None
        times, counts = [], {}
        for _ in range(runs):
            started = time.perf_counter()
            results = run_checks(box.connection, settings)
            times.append(time.perf_counter() - started)
            counts = summary(results)
        endpoints = len(box.connection.endpoints)
        print(f"{label}: {endpoints} endpoints, {len(results)} results ({counts['pass']} pass, {counts['warn']} warn, "
              f"{counts['fail']} fail); full check run wall time median {statistics.median(times):.2f}s, "
              f"min {min(times):.2f}s, max {max(times):.2f}s over {runs} runs", flush=True)
        outcome = run_drill(box.connection, settings)
        writable = f"{outcome.time_to_writable:.2f}s" if outcome.time_to_writable is not None else "never"
        print(f"{label}: drill failover {outcome.old_primary} -> {outcome.new_primary}: time to writable {writable}, "
              f"writes lost {outcome.lost} of {outcome.acknowledged} acknowledged ({outcome.writes} attempted), "
              f"checks pass again after {outcome.settle_seconds:.1f}s, drill {'ok' if outcome.ok else 'FAILED'}",
              flush=True)


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="check runs per topology (default 5)")
    args = parser.parse_args()
    for label, cfg in stacks():
        measure(label, cfg, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
