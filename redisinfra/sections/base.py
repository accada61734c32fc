"""The base of every config model and the error a cross-field rule raises."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RuleError(ValueError):
    """A cross-field rule broken: carries the key path (relative to the model that raised it) it is about."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors; models are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
