"""Config section `redis:docker` (Docker backend)."""
from __future__ import annotations

from pydantic import Field

from .base import Strict


class DockerSettings(Strict):
    """Docker backend settings."""

    publish_address: str = Field("127.0.0.1", description="Host address client ports are published on.")
    exporter: bool = Field(False, description="Run a `redis_exporter` container for Prometheus.")
