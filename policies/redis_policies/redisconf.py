"""Redis / Valkey / Sentinel configuration as the policies see it: directives gathered from config files,
command lines and user data, with what could not be seen (unknown preview values, files the resource
does not carry) tracked so that a policy never turns "not visible" into a false violation."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable

from .values import UNKNOWN, is_secret

# Directive names the parser recognises in free text (user data, scripts); everything else is shell noise.
KNOWN_DIRECTIVES = frozenset({
    "port", "tls-port", "tls-replication", "tls-cluster", "tls-cert-file", "tls-key-file", "tls-ca-cert-file",
    "tls-auth-clients", "requirepass", "masterauth", "masteruser", "user", "aclfile", "include", "maxmemory",
    "maxmemory-policy", "sentinel", "replicaof", "slaveof", "cluster-enabled", "bind", "protected-mode",
    "appendonly", "save", "rename-command",
})
# Directives whose values are passwords: never in plain text, command lines, env or user data.
SECRET_DIRECTIVES = frozenset({"requirepass", "masterauth"})
SECRET_SENTINEL_SUBCOMMANDS = frozenset({"auth-pass", "sentinel-pass"})
SERVER_BINARIES = re.compile(r"(^|/)(redis|valkey)-(server|sentinel)$")
_SIZE = re.compile(r"^(\d+)\s*(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def parse_size(text: str) -> int | None:
    """A Redis memory size (`268435456`, `256mb`, `1gb`) in bytes; None if it is not one."""
    match = _SIZE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower() if match.group(2) else None]


def _tokens(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError:
        return line.split()


@dataclass
class Directive:
    """One `name args...` line; `secret` when its source text was a Pulumi secret."""

    name: str
    args: list[str]
    source: str
    secret: bool


@dataclass
class RedisConf:
    """Everything one Redis or Sentinel process would read, as far as the resource shows it."""

    directives: list[Directive] = field(default_factory=list)
    # Some input that feeds the config is not known during preview: missing directives prove nothing.
    unknown: bool = False
    # The process reads files the resource does not carry (volume, ConfigMap, fetched at boot): same consequence.
    external: list[str] = field(default_factory=list)
    sentinel: bool = False

    @property
    def incomplete(self) -> bool:
        """True when a missing directive may be set where the policy cannot see it."""
        return self.unknown or bool(self.external)

    def all(self, name: str) -> list[Directive]:
        """Every directive with this name, in order."""
        return [d for d in self.directives if d.name == name]

    def last(self, name: str) -> list[str] | None:
        """Arguments of the effective (last) directive of this name."""
        found = self.all(name)
        return found[-1].args if found else None

    def value(self, name: str) -> str | None:
        """First argument of the effective directive (`""` for a bare directive)."""
        args = self.last(name)
        if args is None:
            return None
        return args[0] if args else ""

    def add_text(self, text: Any, source: str, *, free_text: bool = False) -> None:
        """Add the directives of a config file (or, with free_text, of a script that embeds one)."""
        if text is UNKNOWN or (text is not None and not isinstance(text, str)):
            self.unknown = self.unknown or text is UNKNOWN
            return
        if text is None:
            return
        secret = is_secret(text)
        for raw in text.splitlines():
            line = raw.strip()
            if free_text:
                line = line.lstrip("-|> ").strip()
            if not line or line.startswith("#"):
                continue
            tokens = _tokens(line)
            if not tokens:
                continue
            if free_text and tokens[0].lower() not in KNOWN_DIRECTIVES:
                # A command line inside a script (`redis-server /etc/redis.conf --port 0`) still counts.
                if any(SERVER_BINARIES.search(t) for t in tokens[:3]):
                    self.add_command(tokens, source, secret=secret)
                continue
            self._add(tokens, source, secret)

    def add_command(self, argv: Iterable[Any], source: str, *, secret: bool = False) -> list[str]:
        """Add `--name value` options of a server command line; returns the config file paths it names."""
        args = list(argv)
        if any(a is UNKNOWN for a in args):
            self.unknown = True
        words = [a for a in args if isinstance(a, str)]
        files: list[str] = []
        if any(re.search(r"(redis|valkey)-sentinel$", w) or w == "--sentinel" for w in words):
            self.sentinel = True
        current: list[str] | None = None
        for word in words:
            if word.startswith("--") and len(word) > 2:
                if current:
                    self._add(current, source, secret or any(is_secret(w) for w in current))
                current = [word[2:]]
            elif current is not None:
                current.append(word)
            elif word.endswith(".conf"):
                files.append(word)
        if current:
            self._add(current, source, secret or any(is_secret(w) for w in current))
        return files

    def _add(self, tokens: list[str], source: str, secret: bool) -> None:
        name = tokens[0].lower()
        directive = Directive(name, tokens[1:], source, secret)
        self.directives.append(directive)
        if name == "sentinel" and directive.args and directive.args[0].lower() == "monitor":
            self.sentinel = True

    # --- facts the policies judge -------------------------------------------------------------

    def is_cluster(self) -> bool:
        """`cluster-enabled yes`."""
        return (self.value("cluster-enabled") or "").lower() == "yes"

    def replicates(self) -> bool:
        """The process takes part in replication links (replica, Sentinel or cluster node)."""
        return self.sentinel or self.is_cluster() or bool(self.all("replicaof") or self.all("slaveof"))

    def secret_exposures(self) -> list[str]:
        """Directives that carry a password in text that is not a Pulumi secret (names only, never values)."""
        found = []
        for d in self.directives:
            if d.secret:
                continue
            if d.name in SECRET_DIRECTIVES and d.args and not _reference(d.args[0]):
                found.append(f"{d.name} in {d.source}")
            elif d.name == "sentinel" and d.args and d.args[0].lower() in SECRET_SENTINEL_SUBCOMMANDS:
                if len(d.args) > 1 and not _reference(d.args[-1]):
                    found.append(f"sentinel {d.args[0].lower()} in {d.source}")
            elif d.name == "user" and any(_is_password_rule(a) for a in d.args[1:]):
                found.append(f"user {d.args[0] if d.args else ''} password in {d.source}")
        return found


def _reference(value: str) -> bool:
    # `$VAR` / `${VAR}` / `$(cmd)` in a script: the value is resolved on the machine, not written here.
    return value.startswith("$")


def _is_password_rule(rule: str) -> bool:
    # `>password` is a clear-text password; `#<sha256>` is a hash and may be shown.
    return rule.startswith(">") and len(rule) > 1


@dataclass(frozen=True)
class Finding:
    """A verdict on one aspect: ok, violated (with reasons) or not judgeable (with why)."""

    state: str  # "ok" | "violated" | "unknown"
    reasons: tuple[str, ...] = ()

    @staticmethod
    def ok() -> "Finding":
        """Nothing wrong."""
        return Finding("ok")

    @staticmethod
    def violated(*reasons: str) -> "Finding":
        """Something wrong, with what to change."""
        return Finding("violated", tuple(reasons))

    @staticmethod
    def unknown(why: str) -> "Finding":
        """Cannot be judged from what the resource shows (preview unknowns or files it does not carry)."""
        return Finding("unknown", (why,))


def _missing(conf: RedisConf, reasons: list[str]) -> Finding:
    if not reasons:
        return Finding.ok()
    if conf.incomplete:
        # A directive we do not see may be in a file or value we cannot see: no verdict rather than a false one.
        return Finding.unknown("part of the configuration is not visible: " + "; ".join(reasons))
    return Finding.violated(*reasons)


def tls_finding(conf: RedisConf) -> Finding:
    """TLS only: `port 0`, a `tls-port`, cert files, TLS on replication links and the cluster bus."""
    reasons: list[str] = []
    hard: list[str] = []
    port = conf.value("port")
    default_port = "26379" if conf.sentinel else "6379"
    if port is None:
        reasons.append(f"plaintext port {default_port} is open by default: set `port 0`")
    elif port != "0":
        hard.append(f"plaintext `port {port}` is open: set `port 0` and serve clients on `tls-port`")
    tls_port = conf.value("tls-port")
    if tls_port is None:
        reasons.append("no `tls-port`")
    elif tls_port in ("", "0"):
        hard.append("`tls-port 0` disables TLS")
    if tls_port not in (None, "", "0") and conf.value("tls-cert-file") is None:
        reasons.append("`tls-port` without `tls-cert-file`/`tls-key-file`")
    if conf.replicates():
        value = conf.value("tls-replication")
        if value is None:
            reasons.append("replication links are plaintext: set `tls-replication yes`")
        elif value.lower() != "yes":
            hard.append("`tls-replication` is off: set `tls-replication yes`")
    if conf.is_cluster():
        value = conf.value("tls-cluster")
        if value is None:
            reasons.append("the cluster bus is plaintext: set `tls-cluster yes`")
        elif value.lower() != "yes":
            hard.append("`tls-cluster` is off: set `tls-cluster yes`")
    if hard:
        return Finding.violated(*(hard + reasons))
    return _missing(conf, reasons)


def _acl_default_user(conf: RedisConf) -> tuple[bool, str | None]:
    """(defined, problem) for the ACL `default` user from `user default ...` lines."""
    lines = [d for d in conf.all("user") if d.args and d.args[0] == "default"]
    if not lines:
        return False, None
    enabled, nopass = False, False
    for d in lines:  # ACL rules apply left to right, later lines adding to earlier ones
        for rule in (r.lower() for r in d.args[1:]):
            if rule == "on":
                enabled = True
            elif rule == "off":
                enabled = False
            elif rule == "nopass":
                nopass = True
            elif rule.startswith((">", "#")):
                nopass = False
            elif rule in ("resetpass", "reset"):
                nopass = False
                enabled = enabled and rule != "reset"
    if enabled and nopass:  # without nopass an unauthenticated connection is not logged in as `default`
        return True, "the ACL `default` user is on without a password (`nopass`): turn it off or give it a password"
    return True, None


def auth_finding(conf: RedisConf) -> Finding:
    """Authentication on: `requirepass` or ACL users (data nodes); `requirepass` + `sentinel auth-pass` (Sentinel)."""
    requirepass = conf.value("requirepass")
    if requirepass == "":
        return Finding.violated("`requirepass \"\"` disables authentication")
    defined, problem = _acl_default_user(conf)
    if problem:
        return Finding.violated(problem)
    if conf.sentinel:
        reasons = []
        if requirepass is None:
            reasons.append("Sentinel accepts unauthenticated clients: set `requirepass` (and `sentinel sentinel-pass`)")
        monitors = [d for d in conf.all("sentinel") if d.args and d.args[0].lower() == "monitor"]
        auth_pass = [d for d in conf.all("sentinel") if d.args and d.args[0].lower() == "auth-pass"]
        if monitors and not auth_pass:
            reasons.append("Sentinel cannot authenticate to the primary: set `sentinel auth-pass <master> <password>`")
        return _missing(conf, reasons)
    if requirepass is not None or defined:
        return Finding.ok()
    aclfile = conf.value("aclfile")
    if aclfile:
        if aclfile in conf.external or conf.unknown:
            return Finding.unknown(f"users come from {aclfile}, which is not visible (another volume, or not known yet)")
        return Finding.violated(f"{aclfile} does not define the `default` user, so Redis creates it without a password")
    return _missing(conf, ["no `requirepass` and no ACL users: anyone who reaches the port has full access"])


def maxmemory_finding(conf: RedisConf, allowed_policies: list[str], limit_bytes: Any, max_share: float) -> Finding:
    """`maxmemory` set, at most `max_share` of the memory limit, with an allowed `maxmemory-policy`."""
    if conf.sentinel:
        return Finding.ok()
    reasons: list[str] = []
    hard: list[str] = []
    raw = conf.value("maxmemory")
    size = parse_size(raw) if raw else None
    if raw is None:
        reasons.append("no `maxmemory`: Redis grows until the kernel or the orchestrator kills it")
    elif size is None:
        hard.append(f"`maxmemory {raw}` is not a size")
    elif size == 0:
        hard.append("`maxmemory 0` means unlimited")
    policy = conf.value("maxmemory-policy")
    if policy is None:
        reasons.append(f"no `maxmemory-policy` (allowed: {', '.join(allowed_policies)})")
    elif policy.lower() not in allowed_policies:
        hard.append(f"`maxmemory-policy {policy}` is not allowed (allowed: {', '.join(allowed_policies)})")
    if size and limit_bytes is not UNKNOWN and limit_bytes:
        ceiling = int(limit_bytes * max_share)
        if size > ceiling:
            hard.append(f"`maxmemory` {size} bytes is above {max_share:.0%} of the {limit_bytes}-byte memory limit "
                        f"(at most {ceiling}): leave headroom for fork copy-on-write and buffers")
    if hard:
        return Finding.violated(*(hard + reasons))
    return _missing(conf, reasons)
