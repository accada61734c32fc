"""The connection contract: what a deployment exposes (stack output `connection`). **Contract**: change with docs and tests.

Every backend (and the sandbox) produces it; `checks/` consumes nothing else. The committed JSON Schema is
`schema/connection.schema.json` (regenerate with `python -m redisinfra.connection > schema/connection.schema.json`).
"""
from __future__ import annotations

import json
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer

from .config import StackConfig
from .credentials import Secrets, connection_user
from .plan import Node, Plan

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(_Model):
    """One address a client or check dials."""

    name: str = Field(description="Node name (or endpoint kind for managed services, e.g. `primary`).")
    host: str = Field(description="Host name or IP to dial (and to verify in the server certificate).")
    port: int = Field(ge=1, le=65535)
    role: Literal["primary", "replica", "sentinel", "reader", "configuration"] = Field(
        description="`primary`/`replica` for data nodes, `sentinel`, or a managed endpoint kind.")
    shard: Optional[int] = Field(None, description="Shard (cluster) or 0.")
    zone: Optional[str] = Field(None, description="Availability zone when known.")
    primary: Optional[str] = Field(None, description="For replicas: the name of the primary they follow.")


class TLSInfo(_Model):
    """How to verify the servers."""

    enabled: bool
    trust: Literal["ca", "system"] = Field("ca", description="`ca`: verify with `ca_pem`; `system`: the system trust store.")
    ca_pem: Optional[str] = Field(None, description="PEM of the CA that signed the server certificates (trust `ca`).")
    check_hostname: bool = Field(True, description="Verify the certificate names the host dialled.")
    client_cert_pem: Optional[str] = Field(None, description="Client certificate for mutual TLS (`client_auth: required`).")
    client_key_pem: Optional[SecretStr] = Field(None, description="Its private key (secret).")

    @field_serializer("client_key_pem", when_used="json")
    def _reveal(self, value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None


class Credentials(_Model):
    """Who to authenticate as. The password is a secret (a Pulumi secret in stack outputs)."""

    username: str = Field("default", description="ACL user (`default` in password mode).")
    password: SecretStr = Field(description="Password (secret).")
    sentinel_password: Optional[SecretStr] = Field(None, description="Password of the Sentinels themselves (secret).")

    @field_serializer("password", "sentinel_password", when_used="json")
    def _reveal(self, value: SecretStr | None) -> str | None:
        # The contract carries the secret; callers mark the whole output secret (pulumi.Output.secret).
        return value.get_secret_value() if value is not None else None


class Expected(_Model):
    """What the stack asked for: the post-deploy checks compare the running nodes against this."""

    engine: Literal["redis", "valkey"]
    version: str = Field(description="`major.minor`.")
    maxmemory: Optional[int] = Field(description="Bytes per data node (None: not checked).")
    maxmemory_policy: str
    persistence: Literal["rdb", "aof", "both", "none"]
    shards: int = Field(ge=1)
    replicas_per_shard: int = Field(ge=0)
    sentinels: int = Field(0, ge=0)
    quorum: Optional[int] = None
    acl: bool = Field(description="True when the `default` user must be off.")
    disabled_commands: list[str] = Field(default_factory=list)


class Connection(_Model):
    """Stack output `connection`."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str
    backend: Literal["elasticache", "ec2", "docker", "kubernetes", "sandbox"]
    topology: Literal["standalone", "replication", "sentinel", "cluster", "serverless"]
    tls: TLSInfo
    credentials: Credentials
    endpoints: list[Endpoint] = Field(description="Data nodes, Sentinels and managed endpoints.")
    sentinel_master: Optional[str] = Field(None, description="Sentinel master name (topology `sentinel`).")
    expected: Expected

    def by_role(self, *roles: str) -> list[Endpoint]:
        """Endpoints with one of the given roles, in order."""
        return [e for e in self.endpoints if e.role in roles]


def expected_from(cfg: StackConfig, maxmemory: int | None) -> Expected:
    """The expected settings of a config (maxmemory given: ElastiCache derives it from the node type)."""
    return Expected(
        engine=cfg.engine, version=cfg.version or "", maxmemory=maxmemory, maxmemory_policy=cfg.memory.policy,
        persistence=cfg.persistence.mode or "none", shards=cfg.shards, replicas_per_shard=cfg.replicas_per_primary,
        sentinels=cfg.sentinel.count if cfg.sentinel else 0, quorum=cfg.sentinel.quorum if cfg.sentinel else None,
        acl=cfg.security.auth.mode == "acl", disabled_commands=list(cfg.security.disabled_commands),
    )


def endpoint_of(node: Node) -> Endpoint:
    """The endpoint of a plan node."""
    return Endpoint(name=node.name, host=node.address, port=node.port, role=node.role, shard=node.shard,
                    zone=node.zone, primary=node.primary)


def from_plan(plan: Plan, secrets: Secrets, ca_pem: str | None, backend: str | None = None,
              client: tuple[str, str] | None = None) -> Connection:
    """The connection of a self-hosted deployment (or the sandbox) realised from a plan; `client`: (cert, key) PEMs."""
    cfg = plan.config
    user = connection_user(cfg)
    return Connection(
        name=cfg.name, backend=backend or cfg.backend, topology=cfg.topology,
        tls=TLSInfo(enabled=cfg.security.tls.enabled, trust="ca", ca_pem=ca_pem if cfg.security.tls.enabled else None,
                    client_cert_pem=client[0] if client else None,
                    client_key_pem=SecretStr(client[1]) if client else None),
        credentials=Credentials(
            username=user, password=SecretStr(secrets.password(user)),
            sentinel_password=SecretStr(secrets.sentinel_password) if secrets.sentinel_password else None),
        endpoints=[endpoint_of(n) for n in plan.all_nodes],
        sentinel_master=cfg.sentinel.master_name if cfg.sentinel else None,
        expected=expected_from(cfg, cfg.memory.maxmemory_bytes()),
    )


def to_json(connection: Connection, *, reveal: bool = True, indent: int | None = 2) -> str:
    """JSON of a connection; `reveal=False` masks the passwords (for printing)."""
    data = connection.model_dump(mode="json")
    if not reveal:
        for section, key in (("credentials", "password"), ("credentials", "sentinel_password"), ("tls", "client_key_pem")):
            if data[section].get(key) is not None:
                data[section][key] = "********"
    return json.dumps(data, indent=indent)


def json_schema() -> dict:
    """The committed JSON Schema of the contract."""
    schema = Connection.model_json_schema(mode="serialization")
    schema["$id"] = "https://github.com/redis-infra/redis-infra/schema/connection.schema.json"
    schema["title"] = "redis-infra connection (stack output `connection`)"
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
