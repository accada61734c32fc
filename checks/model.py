"""The result of one check on one target, and the knobs every check reads."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["pass", "fail", "warn", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "skip")


@dataclass(frozen=True)
class Result:
    """One verdict: which check, on which node (or `deployment`, `sentinels`, `cluster`), and why."""

    check: str
    target: str
    status: Status
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """Thresholds and timeouts (every network call uses `timeout`)."""

    timeout: float = 3.0
    max_lag_seconds: int = 10
    latency_samples: int = 20
    latency_warn_ms: float = 50.0
    workers: int = 16


def passed(check: str, target: str, detail: str = "") -> Result:
    """A pass."""
    return Result(check, target, "pass", detail)


def failed(check: str, target: str, detail: str) -> Result:
    """A fail (detail says what runs and what was expected)."""
    return Result(check, target, "fail", detail)


def warned(check: str, target: str, detail: str) -> Result:
    """A warning: not wrong, but worth a look."""
    return Result(check, target, "warn", detail)


def skipped(check: str, target: str, detail: str) -> Result:
    """Not applicable or not checkable (e.g. the node is unreachable: `reach` already failed)."""
    return Result(check, target, "skip", detail)


def verdict(check: str, target: str, problems: list[str], ok: str) -> Result:
    """Fail with every problem joined, or pass with `ok`."""
    return failed(check, target, "; ".join(problems)) if problems else passed(check, target, ok)
