"""Config section `redis:kubernetes` (Kubernetes backend)."""
from __future__ import annotations

from pydantic import Field

from .base import Strict


class KubernetesSettings(Strict):
    """Kubernetes backend settings."""

    namespace: str = Field("redis", description="Namespace to deploy into.")
