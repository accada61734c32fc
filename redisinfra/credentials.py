"""Who authenticates as whom: the ACL users every data node carries, and locally generated passwords.

Internal users (always present, each with its own generated password):
- `replicator`: replicas authenticate to their primary with it (`masteruser`/`masterauth`), only PSYNC/REPLCONF/PING;
- `sentinel`: Sentinels manage data nodes with it (the command set the Redis Sentinel docs list);
- `operator`: break-glass administration and cluster formation (all commands);
- `monitor`: metrics (redis_exporter): INFO and read-only diagnostics, no keys, no CONFIG (it would reveal masterauth).
Application users: `default` with a password (auth mode `password`) or the named ACL users (`default` off).
"""
from __future__ import annotations

import hashlib
import secrets as _random
import string
from dataclasses import dataclass, field
from typing import Mapping

from .config import StackConfig

# Letters and digits only: valid as an ElastiCache AUTH token, in ACL files and in URLs without escaping.
ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 40

INTERNAL_RULES = {
    "replicator": "resetchannels -@all +psync +replconf +ping",
    "sentinel": ("allchannels -@all +multi +slaveof +replicaof +ping +exec +subscribe +config|rewrite +role "
                 "+publish +info +client|setname +client|kill +script|kill"),
    "operator": "~* &* +@all",
    "monitor": ("resetkeys resetchannels -@all +ping +info +role +select +client|list +client|info +cluster|info "
                "+slowlog|get +slowlog|len +latency|latest +latency|histogram +memory|stats"),
}
ACCESS_RULES = {
    "admin": "+@all",
    "readwrite": "+@all -@admin",
    "readonly": ("-@all +@read +@connection +info +role +readonly +cluster|info +cluster|nodes "
                 "+cluster|slots +cluster|shards +cluster|myid"),
}


@dataclass(frozen=True)
class Secrets:
    """Plain-text passwords by user name, plus the password clients and peers give to Sentinels."""

    passwords: Mapping[str, str]
    sentinel_password: str = ""

    def password(self, user: str) -> str:
        """The password of one user (KeyError names the user)."""
        return self.passwords[user]


@dataclass(frozen=True)
class AppUser:
    """The user an application (and the post-deploy checks) connects as."""

    name: str  # "default" in password mode
    rules: str = field(repr=False)


def app_users(cfg: StackConfig) -> list[AppUser]:
    """Application users with their ACL rules (disabled commands removed from each)."""
    denied = " ".join(f"-{command.lower()}" for command in cfg.security.disabled_commands)
    if cfg.security.auth.mode == "password":
        return [AppUser("default", f"~* &* +@all {denied}".strip())]
    return [AppUser(u.name, f"{u.keys} {u.channels} {ACCESS_RULES[u.access]} {denied}".strip())
            for u in cfg.security.auth.users]


def user_names(cfg: StackConfig) -> list[str]:
    """Every user that needs a password: application users, then the internal ones this topology uses."""
    names = [u.name for u in app_users(cfg)] + ["replicator", "operator", "monitor"]
    if cfg.topology == "sentinel":
        names.append("sentinel")
    return names


def connection_user(cfg: StackConfig) -> str:
    """The user the connection output names: `default` in password mode, else the first ACL user."""
    return app_users(cfg)[0].name


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password from ALPHABET (for the sandbox; Pulumi backends use pulumi-random with the same alphabet)."""
    return "".join(_random.choice(ALPHABET) for _ in range(length))


def generate_secrets(cfg: StackConfig) -> Secrets:
    """Fresh passwords for every user and for the Sentinels."""
    return Secrets({name: generate_password() for name in user_names(cfg)},
                   generate_password() if cfg.topology == "sentinel" else "")


def acl_file(cfg: StackConfig, secrets: Secrets) -> str:
    """The `aclfile` of a data node: every user with a SHA-256 password hash, never the password itself."""
    digest = lambda user: hashlib.sha256(secrets.password(user).encode()).hexdigest()  # noqa: E731
    lines = []
    users = {u.name: u.rules for u in app_users(cfg)}
    if "default" not in users:
        lines.append("user default off resetkeys resetchannels -@all")
    for name, rules in users.items():
        lines.append(f"user {name} on #{digest(name)} {rules}")
    for name in user_names(cfg):
        if name in INTERNAL_RULES:
            lines.append(f"user {name} on #{digest(name)} {INTERNAL_RULES[name]}")
    return "\n".join(lines) + "\n"
