"""Post-deploy checks through redis-py: prove that what runs is what the stack asked for.

Consumes only the connection contract (stack output `connection`, `redisinfra.connection.Connection`) and the
client helper `redisinfra.clients`; knows nothing of Pulumi. Entry points: `run_checks(connection)` and
`python -m checks` (see docs/checks.md).
"""
from __future__ import annotations

from .model import Result, Settings
from .runner import run_checks

__all__ = ["Result", "Settings", "run_checks"]
