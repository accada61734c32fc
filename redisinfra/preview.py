"""`make preview STACK=<name|file>`: the offline gate. Runs the Pulumi program under mocks with the stack's config,
prints the resource tree, runs the policy pack exactly as `pulumi preview --policy-pack policies` would (its own
process, the Analyzer gRPC protocol) with the stack's pack config, and prints the violations by level.

Exit codes: 0 no mandatory violation, 1 a mandatory violation (or the program / pack failed), 2 bad input
(stack file, policy config file, arguments) with a one-line error. `--json` prints the verdict as JSON on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .analyzer import PACK_DIR, Diagnostic, PackError, PolicyPack, Resource, read_pack_config, secret
from .stack import ConfigError, load_stack_file, stack_file

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PACK_DIR / "config"
STACK_TYPE = "pulumi:pulumi:Stack"


class BadInput(Exception):
    """Input the user must fix (exit 2, one line)."""


@dataclass
class Verdict:
    """What the gate decided for one stack."""

    stack: str
    file: str
    policy_config: Optional[str]
    resources: list[dict[str, Any]]
    violations: list[dict[str, Any]]
    levels: dict[str, str]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mandatory(self) -> list[dict[str, Any]]:
        """Violations that block the deployment."""
        return [v for v in self.violations if v["level"] == "mandatory"]

    @property
    def exit_code(self) -> int:
        """0 pass, 1 a mandatory violation."""
        return 1 if self.mandatory else 0


def stack_name(path: Path) -> str:
    """`prod` for Pulumi.prod.yaml, the file stem otherwise (examples/cluster.yaml -> cluster)."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.split(".")[1]
    return path.stem


def policy_config_for(stack: str, override: Optional[str]) -> Optional[Path]:
    """The pack config to use: the one given, else policies/config/<stack>.json, else none (pack defaults)."""
    if override:
        return Path(override)
    candidate = CONFIG_DIR / f"{stack}.json"
    return candidate if candidate.exists() else None


def _wire(value: Any, path: str, secrets: set[str]) -> Any:
    # Re-apply the secret markers the mocks recorded, so the pack receives what the engine would send.
    if isinstance(value, dict):
        out: Any = {k: _wire(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    elif isinstance(value, list):
        out = [_wire(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    else:
        out = value
    return secret(out) if path in secrets else out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _property_dependencies(inputs: dict[str, Any], urns_by_id: dict[str, str]) -> dict[str, list[str]]:
    # The engine tells analyzers which resources each input was computed from; the mocks resolve every output, so
    # the gate recovers that link from the ids (a cache's securityGroupIds -> its security group's URN).
    out: dict[str, list[str]] = {}
    for key, value in inputs.items():
        urns = sorted({urns_by_id[s] for s in _strings(value) if s in urns_by_id})
        if urns:
            out[key] = urns
    return out


def to_resources(recording: Any) -> list[Resource]:
    """The program's registrations as the engine hands them to analyzers (inputs, secrets marked, property deps)."""
    urns_by_id = {reg.id: reg.urn for reg in recording.registrations
                  if reg.custom and isinstance(getattr(reg, "id", None), str) and reg.id}
    resources = []
    for reg in recording.registrations:
        if reg.type == STACK_TYPE:
            continue
        props = _wire(dict(reg.inputs), "", set(reg.secret_inputs))
        deps = _property_dependencies(dict(reg.inputs), {k: v for k, v in urns_by_id.items() if v != reg.urn})
        resources.append(Resource(type=reg.type, name=reg.name, urn=reg.urn, properties=props, parent=reg.parent or "",
                                  dependencies=list(reg.options.get("dependencies") or []), property_dependencies=deps))
    return resources


def tree_lines(resources: Sequence[Resource]) -> list[str]:
    """The resource tree, children indented under their parent component."""
    by_parent: dict[str, list[Resource]] = {}
    urns = {r.urn for r in resources}
    for r in resources:
        by_parent.setdefault(r.parent if r.parent in urns else "", []).append(r)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for r in by_parent.get(parent, []):
            lines.append(f"{'  ' * depth}{r.type}  {r.name}")
            walk(r.urn, depth + 1)

    walk("", 0)
    return lines


def run_gate(stack: str, *, policy_config: Optional[str] = None,
             program: Optional[Callable[[], None]] = None, pack_dir: Path = PACK_DIR) -> Verdict:
    """Validate the stack file, run the program under mocks, run the pack over gRPC; BadInput for bad input."""
    started = time.monotonic()
    path = Path(stack)
    if not path.exists():
        # A name (`prod`) or a path relative to the repository (`examples/cluster.yaml`) from anywhere.
        path = ROOT / stack if (ROOT / stack).exists() else stack_file(stack, ROOT)
    try:
        load_stack_file(path)  # one-line errors before anything runs
    except ConfigError as error:
        raise BadInput(str(error)) from None
    # Imported only now: a bad stack file is answered without loading the Pulumi SDK.
    import pulumi

    from . import program as program_module
    from .mocks import run_program, stack_config

    name = stack_name(path)
    config = stack_config(path)

    try:
        recording = run_program(program or program_module.main, config, stack=name)
    except pulumi.RunError as error:
        raise BadInput(" ".join(str(error).split())) from None
    resources = to_resources(recording)
    config_path = policy_config_for(name, policy_config)
    try:
        pack_config = read_pack_config(config_path) if config_path else {}
    except PackError as error:
        raise BadInput(str(error)) from None
    notes = list(recording.warnings())
    with PolicyPack(pack_dir, stack=name, stack_config=config, dry_run=True) as pack:
        pack.info()
        pack.configure_stack()
        try:
            resolved = pack.configure(pack_config)
        except PackError as error:
            raise BadInput(f"{config_path}: {error}") from None
        remediating = any(level == "remediate" for level, _ in resolved.values())
        diagnostics: list[Diagnostic] = []
        for resource in resources:
            if remediating:
                # As the engine does: remediations rewrite the inputs first, then the result is analysed.
                for policy, props in pack.remediate(resource):
                    resource.properties = props
                    notes.append(f"remediated by {policy}: {resource.type} {resource.name}")
            diagnostics += pack.analyze(resource)
        diagnostics += pack.analyze_stack(resources)
    by_urn = {r.urn: r for r in resources}
    violations = []
    for d in diagnostics:
        owner = by_urn.get(d.urn)
        violations.append({
            "policy": d.policy, "level": d.level, "severity": d.severity, "urn": d.urn,
            "type": owner.type if owner else "", "resource": owner.name if owner else "", "message": d.detail,
        })
    return Verdict(
        stack=name, file=str(path), policy_config=str(config_path) if config_path else None,
        resources=[{"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent} for r in resources],
        violations=violations, levels={k: v[0] for k, v in resolved.items()}, notes=notes,
        seconds=round(time.monotonic() - started, 3))


def render_text(verdict: Verdict) -> str:
    """The human report: tree, violations by level, verdict."""
    out = [f"stack {verdict.stack} ({verdict.file}); policy config: {verdict.policy_config or 'pack defaults'}"]
    out.append(f"resources ({len(verdict.resources)}):")
    tree = tree_lines([Resource(r["type"], r["name"], r["urn"], {}, r["parent"]) for r in verdict.resources])
    out += [f"  {line}" for line in tree] or ["  (none)"]
    for note in verdict.notes:
        out.append(f"note: {note}")
    for level in ("mandatory", "advisory"):
        found = [v for v in verdict.violations if v["level"] == level]
        if not found:
            continue
        out.append(f"{level} violations ({len(found)}):")
        for v in found:
            where = f"{v['type']} {v['resource']}" if v["resource"] else "stack"
            out.append(f"  [{v['policy']}] {where}: {v['message']}")
    advisory = len([v for v in verdict.violations if v["level"] == "advisory"])
    if verdict.mandatory:
        out.append(f"FAIL: {len(verdict.mandatory)} mandatory violation(s), {advisory} advisory ({verdict.seconds:.1f}s)")
    else:
        out.append(f"PASS: no mandatory violations, {advisory} advisory ({len(verdict.levels)} policies, "
                   f"{verdict.seconds:.1f}s)")
    return "\n".join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m redisinfra.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="dev", help="stack name (Pulumi.<name>.yaml) or a stack file")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--policy-config", help="pack config JSON (default: policies/config/<stack>.json)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    try:
        verdict = run_gate(args.stack, policy_config=args.policy_config)
    except (BadInput, PackError) as error:
        code = 2 if isinstance(error, BadInput) else 1
        print(f"preview: {error}", file=sys.stderr)
        return code
    except Exception as error:  # noqa: BLE001 - the program itself failed: one line, not a traceback
        print(f"preview: the program failed: {type(error).__name__}: {' '.join(str(error).split())[:300]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**asdict(verdict), "verdict": "fail" if verdict.mandatory else "pass"}, indent=2))
    else:
        print(render_text(verdict))
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
