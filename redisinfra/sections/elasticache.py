"""Config section `redis:elasticache` (ElastiCache backend) and its rules."""
from __future__ import annotations

from pydantic import Field

from .base import Strict


class ElastiCacheSettings(Strict):
    """ElastiCache backend settings."""

    node_type: str = Field("cache.r7g.large", description="Cache node type.")
