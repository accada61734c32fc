"""The offline gate `make preview` / `python -m redisinfra.preview`: program under mocks + the real pack over gRPC."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pytest
from pulumi_aws import elasticache

from redisinfra import preview
from redisinfra.analyzer import PolicyPack, read_pack_config
from redisinfra.mocks import FakeProvider, run_program, stack_config
from redisinfra.program import main as program_main

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = sorted([*ROOT.glob("Pulumi.*.yaml"), *(ROOT / "examples").glob("*.yaml")])


def gate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the gate as a user does."""
    return subprocess.run([sys.executable, "-m", "redisinfra.preview", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.parametrize("stack", STACK_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_stack_file_passes_its_pack_config(stack: Path) -> None:
    """Each stack in the repository passes its own pack config (meaningful for each backend as it lands)."""
    result = gate(str(stack), "--json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "pass" and not [v for v in verdict["violations"] if v["level"] == "mandatory"]
    assert len(verdict["levels"]) == 16
    expected_config = ROOT / "policies" / "config" / f"{preview.stack_name(stack)}.json"
    assert verdict["policy_config"] == (str(expected_config) if expected_config.exists() else None)


def test_prod_by_name_prints_tree_and_clean_verdict() -> None:
    result = gate("prod")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policy config: " + str(ROOT / "policies" / "config" / "prod.json") in result.stdout
    assert "aws:elasticache/replicationGroup:ReplicationGroup" in result.stdout
    assert "\n    aws:" in result.stdout, "children are indented under their component"
    assert result.stdout.strip().splitlines()[-1].startswith("PASS: no mandatory violations")


def _flipped_prod(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    assert old in text
    copy = tmp_path / "Pulumi.prod.yaml"  # same stack name: prod's pack config applies
    copy.write_text(text.replace(old, new))
    return copy


def test_flipping_tls_mode_fails_naming_policy_and_resource(tmp_path: Path) -> None:
    copy = _flipped_prod(tmp_path, "transit_encryption_mode: required", "transit_encryption_mode: preferred")
    result = gate(str(copy))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory violations (1):" in result.stdout
    line = next(l for l in result.stdout.splitlines() if "[redis-tls-in-transit]" in l)
    assert "aws:elasticache/replicationGroup:ReplicationGroup redis-prod-group" in line and "'preferred'" in line
    assert result.stdout.strip().splitlines()[-1].startswith("FAIL: 1 mandatory violation")
    verdict = json.loads(gate(str(copy), "--json").stdout)
    assert verdict["verdict"] == "fail"
    assert [(v["policy"], v["resource"]) for v in verdict["violations"]] == [("redis-tls-in-transit", "redis-prod-group")]


def test_flipping_tls_off_in_dev_names_every_container(tmp_path: Path) -> None:
    """Docker backend (when present): TLS off in a copy of dev fails on each node and Sentinel container."""
    copy = tmp_path / "Pulumi.dev.yaml"
    copy.write_text((ROOT / "Pulumi.dev.yaml").read_text() + "  redis:security:\n    tls:\n      enabled: false\n")
    result = gate(str(copy), "--json")
    verdict = json.loads(result.stdout)
    containers = [r["name"] for r in verdict["resources"] if r["type"] == "docker:index/container:Container"]
    if not containers:
        pytest.fail("the dev stack registers no containers: the Docker backend is missing")
    servers = sorted(v["resource"] for v in verdict["violations"] if v["policy"] == "redis-tls-in-transit")
    assert result.returncode == 1 and servers
    assert set(servers) <= set(containers) and all(v["level"] == "mandatory" for v in verdict["violations"])


def test_make_preview_target(tmp_path: Path) -> None:
    """`make preview STACK=<file>`: fails (make reports its own 2) and names the policy; passes for prod."""
    copy = _flipped_prod(tmp_path, "snapshot_retention_days: 14", "snapshot_retention_days: 3")
    failed = subprocess.run(["make", "-s", "preview", f"STACK={copy}"], cwd=ROOT, capture_output=True, text=True,
                            timeout=240)
    assert failed.returncode != 0
    assert "[redis-snapshot-retention] aws:elasticache/replicationGroup:ReplicationGroup redis-prod-group" in failed.stdout
    passed = subprocess.run(["make", "-s", "preview", "STACK=prod", "JSON=1"], cwd=ROOT, capture_output=True,
                            text=True, timeout=240)
    assert passed.returncode == 0 and json.loads(passed.stdout)["verdict"] == "pass"


def test_dev_config_makes_some_policies_advisory(tmp_path: Path) -> None:
    """The same finding is mandatory with prod's config and advisory with dev's."""
    copy = _flipped_prod(tmp_path, "snapshot_retention_days: 14", "snapshot_retention_days: 3")
    prod = json.loads(gate(str(copy), "--json").stdout)
    dev = gate(str(copy), "--json", "--policy-config", str(ROOT / "policies" / "config" / "dev.json"))
    assert [v["level"] for v in prod["violations"]] == ["mandatory"]
    assert dev.returncode == 0 and json.loads(dev.stdout)["violations"] == []  # dev: 1 day is enough


@pytest.mark.parametrize("content, needle", [
    ("config:\n  redis:backend: docker\n  redis:topology: sentinel\n  redis:replicas: 0\n", "redis:replicas"),
    ("config: [\n", "not valid YAML"),
    ("config:\n  redis:backend: dokker\n  redis:topology: standalone\n", "redis:backend"),
])
def test_bad_stack_file_exits_2_with_one_line(tmp_path: Path, content: str, needle: str) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(content)
    result = gate(str(bad))
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_stack_and_bad_pack_config_exit_2(tmp_path: Path) -> None:
    missing = gate("nosuchstack")
    assert missing.returncode == 2 and "no such stack file" in missing.stderr
    config = tmp_path / "pack.json"
    config.write_text(json.dumps({"redis-tls-in-transt": "mandatory"}))
    typo = gate("prod", "--policy-config", str(config))
    assert typo.returncode == 2 and "unknown policy 'redis-tls-in-transt'" in typo.stderr
    assert len(typo.stderr.strip().splitlines()) == 1
    config.write_text("{not json")
    assert gate("prod", "--policy-config", str(config)).returncode == 2


def test_remediate_level_rewrites_before_analysis(tmp_path: Path) -> None:
    """With `remediate`, the gate (like the engine) applies the fix and then analyses the result."""
    copy = _flipped_prod(tmp_path, "snapshot_retention_days: 14", "snapshot_retention_days: 3")
    config = tmp_path / "pack.json"
    config.write_text(json.dumps({"redis-snapshot-retention": "remediate"}))
    verdict = json.loads(gate(str(copy), "--json", "--policy-config", str(config)).stdout)
    assert verdict["verdict"] == "pass"
    assert any("remediated by redis-snapshot-retention" in n and "redis-prod-group" in n for n in verdict["notes"])


# --- small programs: raw resources this project did not create ------------------------------------

def _raw_docker(secure: bool) -> None:
    ports = [docker.ContainerPortArgs(internal=6379, external=6379, ip="127.0.0.1" if secure else None)]
    command = (["redis-server", "--port", "0", "--tls-port", "6379", "--tls-cert-file", "/t/c", "--tls-key-file",
                "/t/k", "--aclfile", "/etc/redis/users.acl", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"]
               if secure else ["redis-server"])
    uploads = [docker.ContainerUploadArgs(file="/etc/redis/users.acl", content=pulumi.Output.secret(
        "user default off\nuser app on #" + "b" * 64 + " ~* +@all\n"))] if secure else []
    docker.Container("cache", image="redis:7.2", command=command, ports=ports, uploads=uploads,
                     memory=512 if secure else None)


def _raw_docker_with_secret_file(mark_secret: bool) -> None:
    text = "masterauth Zq8TzWp4Lm2Xv7Rk9Bn3Hc6Jd1Fs5Ga0\nrequirepass Zq8TzWp4Lm2Xv7Rk9Bn3Hc6Jd1Fs5Ga0\n"
    docker.Container(
        "cache", image="redis:7.2", memory=512,
        command=["redis-server", "--port", "0", "--tls-port", "6379", "--tls-cert-file", "/t/c", "--tls-key-file", "/t/k",
                 "--include", "/etc/redis/secrets.conf", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"],
        uploads=[docker.ContainerUploadArgs(file="/etc/redis/secrets.conf",
                                            content=pulumi.Output.secret(text) if mark_secret else text)])


def _raw_elasticache() -> None:
    params = elasticache.ParameterGroup("params", name="raw-redis7", family="redis7", parameters=[
        elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value="volatile-lru")])
    elasticache.ReplicationGroup(
        "raw", description="not from redis-infra", engine="redis", engine_version="7.1", node_type="cache.t4g.small",
        transit_encryption_enabled=True, transit_encryption_mode="preferred", auth_token="Zq8TzWp4Lm2Xv7Rk9Bn3Hc6Jd1Fs5Ga0",
        auth_token_update_strategy="ROTATE", at_rest_encryption_enabled=True, kms_key_id="arn:aws:kms:x:1:key/k",
        snapshot_retention_limit=7, automatic_failover_enabled=True, multi_az_enabled=True, num_cache_clusters=2,
        parameter_group_name=params.name)


@pytest.mark.parametrize("secure", [True, False])
def test_gate_judges_raw_docker_container(secure: bool) -> None:
    verdict = preview.run_gate("dev", program=lambda: _raw_docker(secure))
    assert [r["name"] for r in verdict.resources] == ["cache"]
    policies = {v["policy"] for v in verdict.mandatory}
    if secure:
        assert verdict.exit_code == 0, verdict.violations
    else:
        assert verdict.exit_code == 1
        assert {"redis-tls-in-transit", "redis-auth-required", "redis-maxmemory", "redis-docker-loopback-only"} <= policies


@pytest.mark.parametrize("mark_secret", [True, False])
def test_gate_keeps_secrets_marked(mark_secret: bool) -> None:
    """A file the program marks secret reaches the pack as a secret (mocks -> wire); a plain one is a violation."""
    verdict = preview.run_gate("dev", program=lambda: _raw_docker_with_secret_file(mark_secret))
    policies = [(v["policy"], v["resource"]) for v in verdict.violations]
    if mark_secret:
        assert policies == [] and verdict.exit_code == 0
    else:
        assert policies == [("redis-secrets-not-exposed", "cache")] and verdict.exit_code == 1
        assert "Zq8TzWp4" not in json.dumps(verdict.violations)


def test_gate_judges_raw_elasticache() -> None:
    """A replication group written by hand (the SDK marks auth_token secret itself): only the 'preferred' mode fails."""
    verdict = preview.run_gate("prod", program=_raw_elasticache)
    assert [(v["policy"], v["resource"]) for v in verdict.violations] == [("redis-tls-in-transit", "raw")]


def test_tree_lines_nest_children() -> None:
    from redisinfra.analyzer import Resource
    parent = Resource("my:component", "c", "urn:c", {})
    child = Resource("docker:index/container:Container", "x", "urn:x", {}, parent="urn:c")
    assert preview.tree_lines([parent, child]) == ["my:component  c", "  docker:index/container:Container  x"]


# --- the project's own serverless topology against the prod pack ----------------------------------

def test_serverless_topology_passes_the_prod_pack(tmp_path: Path) -> None:
    """redis-infra's ElastiCache Serverless cache (RBAC users, CMK, 7-day snapshots, valkey 8) passes prod's pack."""
    text = """config:
  aws:region: eu-west-1
  redis:name: redis-prod
  redis:backend: elasticache
  redis:topology: serverless
  redis:engine: valkey
  redis:version: "8.0"
  redis:zones: [eu-west-1a, eu-west-1b, eu-west-1c]
  redis:security:
    auth:
      mode: acl
      users: [{name: app}, {name: reporting, access: readonly, keys: "~report:*"}]
  redis:elasticache:
    vpc_id: vpc-0a1b2c3d4e5f60718
    subnet_ids: [subnet-0a1b2c3d4e5f60711, subnet-0a1b2c3d4e5f60712, subnet-0a1b2c3d4e5f60713]
    allowed_security_group_ids: [sg-0a1b2c3d4e5f60719]
    at_rest_kms_key: create
    snapshot_retention_days: 14
    notification_topic: create
    serverless: {max_data_storage_gb: 10, max_ecpu_per_second: 5000}
"""
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)
    config = stack_config(path)
    recording = run_program(program_main, config, stack="prod", mocks=FakeProvider(region="eu-west-1"))
    resources = preview.to_resources(recording)
    caches = [r for r in resources if r.type == "aws:elasticache/serverlessCache:ServerlessCache"]
    assert len(caches) == 1
    with PolicyPack(stack="prod", stack_config=config) as pack:
        pack.configure(read_pack_config(ROOT / "policies" / "config" / "prod.json"))
        found = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
    assert [(d.policy, d.urn, d.detail) for d in found] == []
    # The gate itself, as a user runs it on that stack file.
    gate = subprocess.run([sys.executable, "-m", "redisinfra.preview", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    # ...and it is really judged: without the user group or the key it fails.
    with PolicyPack(stack="prod") as pack:
        pack.configure(read_pack_config(ROOT / "policies" / "config" / "prod.json"))
        props = {k: v for k, v in caches[0].properties.items() if k not in ("userGroupId", "kmsKeyId")}
        caches[0].properties = props
        assert {d.policy for d in pack.analyze(caches[0])} == {"redis-auth-required", "redis-encryption-at-rest"}


def test_flipping_to_an_open_custom_port_fails_on_the_cache(tmp_path: Path) -> None:
    """A custom client port opened to 0.0.0.0/0: not a fixed Redis port, but the cache's own port (stack policy)."""
    text = (ROOT / "Pulumi.prod.yaml").read_text().replace(
        "    allowed_security_group_ids: [sg-0a1b2c3d4e5f60719]\n",
        "    allowed_security_group_ids: [sg-0a1b2c3d4e5f60719]\n    allowed_cidrs: [0.0.0.0/0]\n    allow_any_cidr: true\n")
    text += "  redis:ports:\n    redis: 7000\n"
    copy = tmp_path / "Pulumi.prod.yaml"
    copy.write_text(text)
    verdict = json.loads(gate(str(copy), "--json").stdout)
    assert verdict["verdict"] == "fail"
    found = [(v["policy"], v["resource"]) for v in verdict["violations"]]
    assert found == [("redis-no-public-ingress-cache-port", "redis-prod-group")], found
    message = verdict["violations"][0]["message"]
    assert "port 7000" in message and "0.0.0.0/0" in message
