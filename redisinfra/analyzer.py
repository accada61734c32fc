"""Run a CrossGuard policy pack the way the Pulumi engine does, without the Pulumi CLI.

The engine starts `python -u -m pulumi.policy <engine-address> .` in the pack's directory (the
`pulumi-analyzer-policy-python` shim) with PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN / PULUMI_CONFIG in
the environment, reads the port the pack prints on stdout, and speaks the Analyzer gRPC service:
GetAnalyzerInfo, ConfigureStack, Configure (every policy's level and properties, defaults filled in from the
policy's config schema), Analyze per resource and AnalyzeStack once. Resource properties travel as a protobuf
Struct with the engine's wire encodings for secrets and unknown preview values. `make preview` and the
policy tests both use this module.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

PACK_DIR = Path(__file__).resolve().parent.parent / "policies"
# The engine's wire encodings (sdk/go/common/resource/properties.go).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # an unknown string; the pack treats every unknown kind alike

LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
SEVERITIES = {analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "", analyzer_pb2.POLICY_SEVERITY_LOW: "low",
              analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium", analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
              analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}


class PackError(Exception):
    """The pack could not be started, configured or asked (one line)."""


def secret(value: Any) -> dict[str, Any]:
    """A property value as the engine sends a Pulumi secret."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Resource properties as the protobuf Struct the engine sends."""
    struct = struct_pb2.Struct()
    struct.update(_jsonable(dict(props)))
    return struct


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as GetAnalyzerInfo describes it."""

    name: str
    description: str
    level: str
    severity: str
    remediation_steps: str
    config_schema: dict[str, Any]
    kind: str  # "resource" | "stack"


@dataclass(frozen=True)
class Diagnostic:
    """One violation the pack reported."""

    policy: str
    level: str
    message: str
    urn: str
    severity: str

    @property
    def detail(self) -> str:
        """The message without the policy description the SDK prefixes to it."""
        return self.message.split("\n", 1)[1] if "\n" in self.message else self.message


@dataclass
class Resource:
    """A resource as the engine hands it to a policy pack."""

    type: str
    name: str
    urn: str
    properties: dict[str, Any]
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    # Input name -> URNs of the resources whose outputs flowed into it (the engine's propertyDependencies).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def urn_for(type_: str, name: str, stack: str = "test", project: str = "redis-infra", parent_type: str = "") -> str:
    """A URN in the engine's format."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def read_pack_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file: {policy: "level" | {"enforcementLevel": ..., <property>: ...}}."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PackError(f"{path}: no such policy config file") from None
    except json.JSONDecodeError as error:
        raise PackError(f"{path}: not valid JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(data, dict):
        raise PackError(f"{path}: expected an object of policy names")
    return data


class PolicyPack:
    """The pack as its own process, spoken to over gRPC. Use as a context manager; stop() kills it by pid."""

    def __init__(self, pack_dir: str | os.PathLike[str] = PACK_DIR, *, project: str = "redis-infra",
                 stack: str = "test", dry_run: bool = True, stack_config: Optional[Mapping[str, str]] = None,
                 python: str = sys.executable, timeout: float = 30.0) -> None:
        self.pack_dir = Path(pack_dir)
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.stack_config = dict(stack_config or {})
        self.python, self.timeout = python, timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.channel: Optional[grpc.Channel] = None
        self.stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None
        self.port = 0
        self._info: Optional[list[PolicyInfo]] = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> "PolicyPack":
        """Start the pack, wait for the port it prints, connect."""
        env = dict(os.environ)
        env.update({"PULUMI_PROJECT": self.project, "PULUMI_STACK": self.stack,
                    "PULUMI_DRY_RUN": "true" if self.dry_run else "false", "PULUMI_ORGANIZATION": "organization",
                    "PULUMI_CONFIG": json.dumps(self.stack_config), "PYTHONUNBUFFERED": "1"})
        # Same command line as the engine's analyzer shim: engine address, then the pack directory as ".".
        self.process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."], cwd=self.pack_dir, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self.channel).result(timeout=self.timeout)
            self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(left, 0))
            if not ready:
                raise PackError(f"policy pack did not print its port within {self.timeout:.0f}s")
            chunk = os.read(self.process.stdout.fileno(), 1)
            if not chunk:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                last = [l for l in err.strip().splitlines() if l.strip()][-1:] or ["(no output)"]
                raise PackError(f"policy pack exited before serving: {last[0]}")
            line += chunk
        try:
            return int(line.strip())
        except ValueError:
            raise PackError(f"policy pack printed {line.strip()[:80]!r} instead of its port") from None

    def stop(self) -> None:
        """Close the channel and stop the pack process (by its pid), waiting for it."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    @property
    def pid(self) -> Optional[int]:
        """The pack process id while it runs."""
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> "PolicyPack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- protocol ---------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        if self.stub is None:
            raise PackError("policy pack is not running")
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as error:
            details = error.details() if hasattr(error, "details") else str(error)  # type: ignore[attr-defined]
            raise PackError(f"{method} failed: {' '.join(str(details).split())[:500]}") from None

    def info(self) -> list[PolicyInfo]:
        """GetAnalyzerInfo: the pack's policies with their default levels and config schemas."""
        if self._info is None:
            reply = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            self.name, self.version = reply.name, reply.version
            self._info = [PolicyInfo(
                name=p.name, description=p.description, level=LEVEL_NAMES[p.enforcementLevel],
                severity=SEVERITIES.get(p.severity, ""), remediation_steps=p.remediation_steps,
                config_schema=json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {},
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            ) for p in reply.policies]
        return self._info

    def configure_stack(self, tags: Optional[Mapping[str, str]] = None) -> None:
        """ConfigureStack: the stack the resources belong to (as the engine sends it before analysing)."""
        self._call("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization="organization", dry_run=self.dry_run,
            config=self.stack_config, tags=dict(tags or {})))

    def resolve_config(self, pack_config: Optional[Mapping[str, Any]] = None) -> dict[str, tuple[str, dict[str, Any]]]:
        """What the CLI sends: for every policy its level and properties (schema defaults + the config file)."""
        pack_config = dict(pack_config or {})
        policies = {p.name: p for p in self.info()}
        default_all = pack_config.pop("all", None)
        unknown = sorted(set(pack_config) - set(policies))
        if unknown:
            raise PackError(f"policy config: unknown policy {unknown[0]!r} (known: {', '.join(sorted(policies))})")
        resolved: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, policy in policies.items():
            level = policy.level
            if isinstance(default_all, str):
                level = default_all
            elif isinstance(default_all, dict) and "enforcementLevel" in default_all:
                level = default_all["enforcementLevel"]
            props = {k: spec["default"] for k, spec in policy.config_schema.items() if "default" in spec}
            entry = pack_config.get(name)
            if isinstance(entry, str):
                level = entry
            elif isinstance(entry, dict):
                level = entry.get("enforcementLevel", level)
                extra = sorted(set(entry) - {"enforcementLevel"} - set(policy.config_schema))
                if extra:
                    raise PackError(f"policy config: {name}.{extra[0]} is not a setting of {name} "
                                    f"(allowed: {', '.join(sorted(policy.config_schema)) or 'enforcementLevel only'})")
                props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
            elif entry is not None:
                raise PackError(f"policy config: {name} must be a level or an object")
            if level not in LEVELS:
                raise PackError(f"policy config: {name}: enforcement level {level!r} is not allowed "
                                f"(allowed: {', '.join(LEVELS)})")
            resolved[name] = (level, props)
        return resolved

    def configure(self, pack_config: Optional[Mapping[str, Any]] = None) -> dict[str, tuple[str, dict[str, Any]]]:
        """Configure: send every policy's resolved level and properties; returns what was sent."""
        resolved = self.resolve_config(pack_config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in resolved.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = LEVELS[level]
            entry.properties.update(_jsonable(props))
        self._call("Configure", request)
        return resolved

    def analyze(self, resource: Resource) -> list[Diagnostic]:
        """Analyze one resource (its inputs), as the engine does before each step."""
        reply = self._call("Analyze", analyzer_pb2.AnalyzeRequest(
            type=resource.type, name=resource.name, urn=resource.urn, properties=to_struct(resource.properties),
            options=analyzer_pb2.AnalyzerResourceOptions(parent=resource.parent)))
        return [_diagnostic(d, resource.urn) for d in reply.diagnostics]

    def analyze_stack(self, resources: Iterable[Resource]) -> list[Diagnostic]:
        """AnalyzeStack: every resource at once (stack policies)."""
        request = analyzer_pb2.AnalyzeStackRequest(resources=[analyzer_pb2.AnalyzerResource(
            type=r.type, name=r.name, urn=r.urn, properties=to_struct(r.properties), parent=r.parent,
            dependencies=list(r.dependencies), options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                                  for k, v in r.property_dependencies.items()},
        ) for r in resources])
        reply = self._call("AnalyzeStack", request)
        return [_diagnostic(d, "") for d in reply.diagnostics]

    def remediate(self, resource: Resource) -> list[tuple[str, dict[str, Any]]]:
        """Remediate one resource: [(policy, new properties)] for each remediation that applied."""
        reply = self._call("Remediate", analyzer_pb2.AnalyzeRequest(
            type=resource.type, name=resource.name, urn=resource.urn, properties=to_struct(resource.properties)))
        return [(r.policyName, json_format.MessageToDict(r.properties)) for r in reply.remediations]


def _diagnostic(d: Any, default_urn: str) -> Diagnostic:
    return Diagnostic(policy=d.policyName, level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"), message=d.message,
                      urn=d.urn or default_urn, severity=SEVERITIES.get(d.severity, ""))


__all__ = ["PolicyPack", "PolicyInfo", "Diagnostic", "Resource", "PackError", "secret", "to_struct", "urn_for",
           "read_pack_config", "UNKNOWN", "PACK_DIR", "LEVELS"]
