"""The pack as the engine sees it: process start, GetAnalyzerInfo, Configure levels/thresholds, teardown."""
from __future__ import annotations

from pathlib import Path

import pytest

from redisinfra.analyzer import PACK_DIR, PackError, PolicyPack, read_pack_config

from .builders import RG, replication_group, resource

EXPECTED = {
    "redis-tls-in-transit", "redis-auth-required", "redis-secrets-not-exposed", "redis-maxmemory",
    "redis-maxmemory-headroom", "redis-encryption-at-rest", "redis-snapshot-retention", "redis-multi-az-failover",
    "redis-auto-minor-version-upgrade", "redis-no-public-ingress", "redis-no-public-ingress-cache-port",
    "redis-docker-loopback-only",
    "redis-kubernetes-no-loadbalancer", "redis-kubernetes-pod-security", "redis-ec2-imdsv2",
    "redis-minimum-engine-version",
}


def test_pack_is_self_contained() -> None:
    """PulumiPolicy.yaml, pinned requirements, a __main__ that only builds the pack, no import of the program."""
    assert (PACK_DIR / "PulumiPolicy.yaml").read_text().count("runtime:") == 1
    requirements = [l for l in (PACK_DIR / "requirements.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert requirements and all("==" in l for l in requirements)
    main = (PACK_DIR / "__main__.py").read_text()
    assert "PolicyPack(" in main and "def " not in main
    for module in (PACK_DIR / "redis_policies").glob("*.py"):
        assert "redisinfra" not in module.read_text(), f"{module.name} imports the program: the pack must stand alone"


def test_analyzer_info_describes_every_policy(pack: PolicyPack) -> None:
    """Every policy has a name, description, severity, default level and remediation steps."""
    info = {p.name: p for p in pack.info()}
    assert set(info) == EXPECTED
    for policy in info.values():
        assert policy.description and policy.remediation_steps, policy.name
        assert policy.severity in ("low", "medium", "high", "critical"), policy.name
        assert policy.level == "mandatory", policy.name
    assert info["redis-maxmemory-headroom"].kind == "stack"
    assert info["redis-no-public-ingress-cache-port"].kind == "stack"
    assert info["redis-snapshot-retention"].config_schema["minimumDays"]["default"] == 7
    assert pack.name == "redis-infra"


def test_configure_changes_level_and_threshold(pack: PolicyPack) -> None:
    """Per-stack config: the level the engine reports and the thresholds follow Configure."""
    props = replication_group(snapshotRetentionLimit=3)
    found = [d for d in pack.analyze(resource(RG, props)) if d.policy == "redis-snapshot-retention"]
    assert [d.level for d in found] == ["mandatory"] and "below the required 7" in found[0].detail
    pack.configure({"redis-snapshot-retention": {"enforcementLevel": "advisory", "minimumDays": 5}})
    found = [d for d in pack.analyze(resource(RG, props)) if d.policy == "redis-snapshot-retention"]
    assert [d.level for d in found] == ["advisory"] and "below the required 5" in found[0].detail
    pack.configure({"redis-snapshot-retention": {"minimumDays": 3}})
    assert not [d for d in pack.analyze(resource(RG, props)) if d.policy == "redis-snapshot-retention"]
    pack.configure({"redis-snapshot-retention": "disabled"})
    assert not [d for d in pack.analyze(resource(RG, replication_group(snapshotRetentionLimit=0)))
                if d.policy == "redis-snapshot-retention"]


def test_all_key_sets_every_level(pack: PolicyPack) -> None:
    """`"all": "advisory"` (the CLI's shorthand) downgrades every policy."""
    pack.configure({"all": "advisory"})
    found = pack.analyze(resource(RG, replication_group(transitEncryptionEnabled=False)))
    assert found and {d.level for d in found} == {"advisory"}


@pytest.mark.parametrize("config, needle", [
    ({"redis-nope": "mandatory"}, "unknown policy 'redis-nope'"),
    ({"redis-maxmemory": {"maxShare": 0.5}}, "redis-maxmemory.maxShare is not a setting"),
    ({"redis-maxmemory": "strict"}, "enforcement level 'strict' is not allowed"),
])
def test_bad_pack_config_is_refused(pack: PolicyPack, config: dict, needle: str) -> None:
    """A typo in the pack config is an error naming the key, never silently ignored."""
    with pytest.raises(PackError, match=needle.replace("(", r"\(").replace(".", r"\.")):
        pack.configure(config)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_are_valid(pack: PolicyPack, stack: str) -> None:
    """The committed per-stack configs resolve against the pack (every name and setting exists)."""
    resolved = pack.configure(read_pack_config(PACK_DIR / "config" / f"{stack}.json"))
    assert set(resolved) == EXPECTED
    if stack == "prod":
        assert {level for level, _ in resolved.values()} == {"mandatory"}
    else:
        assert resolved["redis-tls-in-transit"][0] == "mandatory"
        assert resolved["redis-snapshot-retention"] == ("advisory", {"minimumDays": 1})


def test_pack_process_prints_port_and_is_stopped_by_pid(tmp_path: Path) -> None:
    """Started exactly as the engine does (python -m pulumi.policy <engine> .), stopped by its pid."""
    pack = PolicyPack(stack="teardown").start()
    pid = pack.pid
    assert pid and pack.port > 0
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"pulumi.policy" in args and args[-2] == b"."
    assert Path(f"/proc/{pid}/cwd").resolve() == PACK_DIR
    environ = dict(e.split(b"=", 1) for e in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in e)
    assert environ[b"PULUMI_STACK"] == b"teardown" and environ[b"PULUMI_DRY_RUN"] == b"true"
    pack.stop()
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_a_broken_pack_fails_with_one_line(tmp_path: Path) -> None:
    """A pack that dies before printing its port is a PackError naming the cause, not a hang."""
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack: missing dependency')\n")
    with pytest.raises(PackError, match="exited before serving"):
        PolicyPack(tmp_path, timeout=20).start()
