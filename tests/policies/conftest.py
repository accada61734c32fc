"""Fixtures for the policy tests: the real pack as its own process (as the engine starts it), spoken to over gRPC."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

import pytest

from redisinfra.analyzer import Diagnostic, PolicyPack, Resource

from .builders import resource


@pytest.fixture(scope="module")
def pack_process() -> Iterator[PolicyPack]:
    """One pack process per test module; stopped by its pid in teardown, also when a test fails."""
    pack = PolicyPack(stack="test").start()
    try:
        yield pack
    finally:
        pack.stop()


@pytest.fixture
def pack(pack_process: PolicyPack) -> PolicyPack:
    """The pack configured with its defaults (every policy mandatory) before each test."""
    pack_process.configure({})
    return pack_process


Judge = Callable[..., list[Diagnostic]]


@pytest.fixture
def judge(pack: PolicyPack) -> Judge:
    """judge(type, props, policy=None) -> the violations the pack reports for one resource (optionally one policy)."""
    def run(type_: str, props: dict[str, Any], policy: Optional[str] = None, name: str = "subject") -> list[Diagnostic]:
        found = pack.analyze(resource(type_, props, name))
        return [d for d in found if policy is None or d.policy == policy]

    return run


def messages(diagnostics: list[Diagnostic]) -> str:
    """All violation details in one string, for assertion messages."""
    return " | ".join(d.detail for d in diagnostics)


__all__ = ["Judge", "messages", "Resource"]
