"""Printing results: a table for people, JSON for machines."""
from __future__ import annotations

import json
from typing import Any

from .model import Result
from .runner import summary

MARK = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "skip"}


def table(results: list[Result], title: str = "") -> str:
    """An aligned table, one result per line, and a summary line."""
    check_w = max([len("check")] + [len(r.check) for r in results])
    target_w = max([len("target")] + [len(r.target) for r in results])
    lines = [title] if title else []
    lines.append(f"{'check':<{check_w}}  {'target':<{target_w}}  {'status':<6}  detail")
    for r in results:
        lines.append(f"{r.check:<{check_w}}  {r.target:<{target_w}}  {MARK[r.status]:<6}  {r.detail}")
    counts = summary(results)
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no checks ran")
    return "\n".join(lines)


def as_json(results: list[Result], **extra: Any) -> dict[str, Any]:
    """The machine-readable report: results, counts, ok flag, plus any extra sections (e.g. the drill)."""
    counts = summary(results)
    return {"ok": counts["fail"] == 0, "summary": counts, "results": [r.as_dict() for r in results], **extra}


def dumps(report: dict[str, Any]) -> str:
    """JSON text of a report."""
    return json.dumps(report, indent=2)
