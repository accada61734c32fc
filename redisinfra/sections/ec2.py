"""Config section `redis:ec2` (EC2 backend)."""
from __future__ import annotations

from pydantic import Field

from .base import Strict


class EC2Settings(Strict):
    """EC2 backend settings."""

    instance_type: str = Field("r7g.large", description="Instance type of every node.")
