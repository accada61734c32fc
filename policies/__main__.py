"""Entry point the Pulumi engine runs: it only builds the pack (constructing it starts the gRPC server and blocks)."""
from pulumi_policy import EnforcementLevel, PolicyPack

from redis_policies import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
