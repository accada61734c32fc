"""A thin layer over pulumi_policy: policies are plain functions over plain inputs that return messages.

Every policy states its name, description, severity, default enforcement level, remediation steps and
config schema (with defaults) in one place; the pack config (`--policy-pack-config`) overrides levels and
thresholds per stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
    Severity, StackValidationArgs, StackValidationPolicy,
)

from .values import plain


@dataclass
class Subject:
    """One resource as a policy sees it: plain inputs (unknowns as UNKNOWN, secrets as SecretText)."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    config: dict[str, Any]
    parent: Optional[str] = None
    # Stack policies: input name -> URNs of the resources it was computed from (how a cache names its security
    # groups when their ids are not known yet).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def _config(raw: Optional[Mapping[str, Any]], schema: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    # The CLI fills schema defaults; a bare gRPC client may not, so apply them here as well.
    merged = {key: spec.get("default") for key, spec in schema.items()}
    merged.update(dict(raw or {}))
    return merged


def _schema(schema: Mapping[str, Mapping[str, Any]]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in schema.items()}) if schema else None


ResourceCheck = Callable[[Subject], Iterable[str]]
StackCheck = Callable[[list[Subject], dict[str, Any]], Iterable[tuple[str, str]]]
Remedy = Callable[[Subject], Optional[dict[str, Any]]]


def resource_policy(
    name: str, description: str, check: ResourceCheck, *, severity: Severity, remediation_steps: str,
    level: EnforcementLevel = EnforcementLevel.MANDATORY, config: Optional[Mapping[str, Mapping[str, Any]]] = None,
    remedy: Optional[Remedy] = None, tags: Optional[list[str]] = None,
) -> ResourceValidationPolicy:
    """A resource policy: `check(subject)` yields one message per violation (never a secret value)."""
    schema = dict(config or {})

    def subject(args: ResourceValidationArgs) -> Subject:
        return Subject(args.resource_type, args.name, args.urn, plain(args.props), _config(args.get_config(), schema))

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in dict.fromkeys(check(subject(args))):  # one report per distinct finding
            report(message, None)

    def remediate(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
        assert remedy is not None
        changes = remedy(subject(args))
        if not changes:
            return None
        props = args.props  # the library's secret-preserving proxy: writing through it keeps other secrets secret
        for key, value in changes.items():
            props[key] = value
        return props

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, remediate=remediate if remedy else None,
        enforcement_level=level, config_schema=_schema(schema), severity=severity,
        remediation_steps=remediation_steps, tags=tags or ["redis"],
    )


def stack_policy(
    name: str, description: str, check: StackCheck, *, severity: Severity, remediation_steps: str,
    level: EnforcementLevel = EnforcementLevel.MANDATORY, config: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> StackValidationPolicy:
    """A stack policy: `check(subjects, config)` yields (message, urn) per violation."""
    schema = dict(config or {})

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        cfg = _config(args.get_config(), schema)
        subjects = [Subject(r.resource_type, r.name, r.urn, plain(r.props), cfg,
                            r.parent.urn if r.parent is not None else None,
                            {k: [d.urn for d in v] for k, v in (r.property_dependencies or {}).items()})
                    for r in args.resources]
        for message, urn in dict.fromkeys(check(subjects, cfg)):
            report(message, urn)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level,
        config_schema=_schema(schema), severity=severity, remediation_steps=remediation_steps, tags=["redis"],
    )
