"""Wall time of the offline gate (`python -m redisinfra.preview <stack>`) for every stack file in the repository.

Each run is a fresh process, as `make preview` starts it: interpreter start, stack validation, the program under
mocks, the policy pack started as its own process and every resource analysed over gRPC. Prints one line per
stack: resources, verdict, and the min / median / max of the runs. `python benchmarks/preview.py [--runs N]`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stack_files() -> list[Path]:
    """Pulumi.<stack>.yaml files and examples/*.yaml."""
    return sorted([*ROOT.glob("Pulumi.*.yaml"), *(ROOT / "examples").glob("*.yaml")])


def run_once(stack: Path) -> tuple[float, dict]:
    """(seconds, verdict JSON) of one gate run."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "redisinfra.preview", str(stack), "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{stack}: gate failed (exit {result.returncode}): {result.stderr.strip()}")
    return elapsed, json.loads(result.stdout)


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per stack (default 3)")
    args = parser.parse_args()
    print(f"offline gate wall time, {args.runs} run(s) per stack, python {sys.version.split()[0]}")
    print(f"{'stack file':32} {'resources':>9} {'verdict':>8} {'min s':>7} {'median s':>9} {'max s':>7}")
    for stack in stack_files():
        times, verdict = [], {}
        for _ in range(args.runs):
            seconds, verdict = run_once(stack)
            times.append(seconds)
        print(f"{str(stack.relative_to(ROOT)):32} {len(verdict['resources']):>9} {verdict['verdict']:>8} "
              f"{min(times):>7.2f} {statistics.median(times):>9.2f} {max(times):>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
