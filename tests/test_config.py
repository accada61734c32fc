"""Stack config: defaults, cross-field rules, one-line errors (also for random bad input)."""
from __future__ import annotations

import glob
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redisinfra.config import DEFAULT_DISABLED_COMMANDS, StackConfig
from redisinfra.stack import ConfigError, load_stack_file, parse_config

ROOT = Path(__file__).resolve().parent.parent
BASE = {"backend": "docker", "topology": "sentinel"}


def bad(values: dict, source: str = "Pulumi.t.yaml") -> str:
    """The one-line error a config gives (fails the test when it is accepted)."""
    with pytest.raises(ConfigError) as caught:
        parse_config(values, source)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{source}: redis:"), message
    return message


def test_secure_defaults() -> None:
    cfg = parse_config(BASE)
    assert cfg.security.tls.enabled is True
    assert cfg.security.auth.mode == "password"
    assert set(DEFAULT_DISABLED_COMMANDS) <= set(cfg.security.disabled_commands)
    assert cfg.persistence.mode == "both"
    assert cfg.memory.maxmemory_bytes() == int(1024**3 * 0.75)
    assert cfg.sentinel and (cfg.sentinel.count, cfg.sentinel.quorum) == (3, 2)
    assert cfg.version == "7.2" and cfg.engine == "redis"
    assert cfg.docker is not None and cfg.elasticache is None


def test_engine_defaults_and_versions() -> None:
    assert parse_config({**BASE, "engine": "valkey"}).version == "8.0"
    assert "allowed: 7.2, 8.0, 8.1" in bad({**BASE, "engine": "valkey", "version": "7.0"})
    assert 'quoted string ("7.2")' in bad({**BASE, "version": 7.2})


def test_elasticache_defaults_to_snapshots_and_refuses_aof() -> None:
    cfg = parse_config({"backend": "elasticache", "topology": "cluster", "cluster": {"shards": 1}})
    assert cfg.persistence.mode == "rdb" and cfg.shards == 1 and cfg.version == "7.1"
    assert "do not support AOF" in bad({"backend": "elasticache", "topology": "cluster", "persistence": {"mode": "aof"}})


@pytest.mark.parametrize("values, key, words", [
    ({**BASE, "sentinel": {"quorum": 1}}, "redis:sentinel.quorum", "not a majority of 3 Sentinels (allowed: 2..3)"),
    ({**BASE, "sentinel": {"count": 4, "quorum": 3}}, "redis:sentinel.count", "odd number >= 3"),
    ({**BASE, "sentinel": {"count": 5, "quorum": 2}}, "redis:sentinel.quorum", "allowed: 3..5"),
    ({**BASE, "sentinal": {}}, "redis:sentinal", "did you mean 'sentinel'?"),
    ({**BASE, "sentinel": {"qourum": 2}}, "redis:sentinel.qourum", "did you mean 'quorum'?"),
    ({**BASE, "memory": {"maxmemroy": "1gb"}}, "redis:memory.maxmemroy", "did you mean 'maxmemory'?"),
    ({**BASE, "topology": "clustr"}, "redis:topology", "allowed: 'standalone', 'replication', 'sentinel', 'cluster' or 'serverless'"),
    ({"backend": "docker", "topology": "cluster", "cluster": {"shards": 2}}, "redis:cluster.shards", "at least 3 shards"),
    ({**BASE, "replicas": 0}, "redis:replicas", "at least 1 replica for automatic failover"),
    ({"backend": "docker", "topology": "replication", "replicas": 0}, "redis:replicas", "at least 1 replica"),
    ({"backend": "docker", "topology": "standalone", "replicas": 2}, "redis:replicas", "standalone has no replicas"),
    ({**BASE, "memory": {"maxmemory": "80%"}}, "redis:memory.maxmemory", "copy-on-write"),
    ({**BASE, "memory": {"maxmemory": "900mb", "node_memory": "1gb"}}, "redis:memory.maxmemory", "at most 75%"),
    ({**BASE, "memory": {"maxmemory": 0}}, "redis:memory.maxmemory", "must be above 0"),
    ({**BASE, "memory": {"maxmemory": "lots"}}, "redis:memory.maxmemory", "not a size"),
    ({**BASE, "persistence": {"mode": "none"}}, "redis:restart", "replicas then wipe themselves"),
    ({**BASE, "cluster": {}}, "redis:cluster", "topology is 'sentinel'"),
    ({**BASE, "elasticache": {}}, "redis:elasticache", "backend is 'docker'"),
    ({**BASE, "security": {"auth": {"mode": "acl"}}}, "redis:security.auth.users", "at least one user"),
    ({**BASE, "security": {"auth": {"mode": "acl", "users": [{"name": "sentinel"}]}}},
     "redis:security.auth.users[0].name", "reserved"),
    ({**BASE, "security": {"tls": {"enabled": "maybe"}}}, "redis:security.tls.enabled", "valid boolean"),
    ({**BASE, "name": "Bad_Name"}, "redis:name", "lowercase"),
    ({"topology": "sentinel"}, "redis:backend", "required"),
    ({**BASE, "zones": ["a", "a"]}, "redis:zones", "unique"),
    ({**BASE, "persistence": {"rdb_schedule": ["0 0"]}}, "redis:persistence.rdb_schedule", "both at least 1"),
    ({**BASE, "security": {"auth": {"mode": "acl", "users": [{"name": "app", "keys": "app:*"}]}}},
     "redis:security.auth.users[0].keys", "~pattern"),
    ({**BASE, "security": {"auth": {"mode": "acl", "users": [{"name": "ro", "access": "readonly", "keys": "~* +@all"}]}}},
     "redis:security.auth.users[0].keys", "~pattern"),
    ({**BASE, "security": {"auth": {"mode": "acl", "users": [{"name": "app", "channels": "*"}]}}},
     "redis:security.auth.users[0].channels", "&pattern"),
    ({"backend": "elasticache", "topology": "replication", "version": "7.2"}, "redis:version", "ElastiCache offers redis 7.0, 7.1"),
])
def test_rules_give_one_line_naming_the_key(values: dict, key: str, words: str) -> None:
    message = bad(values)
    assert f": {key}: " in message, message
    assert words in message, message


def test_persistence_off_is_allowed_without_auto_restart_or_with_reboot_guard() -> None:
    parse_config({**BASE, "persistence": {"mode": "none"}, "restart": "never"})
    parse_config({**BASE, "persistence": {"mode": "none"}, "sentinel": {"master_reboot_down_after_ms": 30000}})
    # A cache without replicas may restart empty: nothing to wipe.
    parse_config({"backend": "docker", "topology": "standalone", "persistence": {"mode": "none"},
                  "memory": {"maxmemory": "90%"}})


def test_repository_stack_files_are_valid() -> None:
    files = [ROOT / "Pulumi.dev.yaml", ROOT / "Pulumi.prod.yaml", *map(Path, glob.glob(str(ROOT / "examples/*.yaml")))]
    configs = {f.name: load_stack_file(f) for f in files}
    dev, prod = configs["Pulumi.dev.yaml"], configs["Pulumi.prod.yaml"]
    assert (dev.backend, dev.topology, dev.replicas, dev.sentinel and dev.sentinel.count) == ("docker", "sentinel", 2, 3)
    assert (prod.backend, prod.topology, prod.shards, prod.replicas) == ("elasticache", "cluster", 3, 2)


def test_stack_file_errors(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text("config:\n  redis:backend: docker\n  redis:topolgy: sentinel\n")
    with pytest.raises(ConfigError, match=r"^Pulumi.x.yaml: redis:topolgy: unknown key; did you mean 'topology'\?"):
        load_stack_file(stack)
    stack.write_text("config: [\n")
    with pytest.raises(ConfigError, match=r"^Pulumi.x.yaml: line \d+: not valid YAML"):
        load_stack_file(stack)
    stack.write_text("config:\n  redis:backend: docker\n  redis:topology: standalone\n  redis:x:\n    secure: v1:abc\n")
    with pytest.raises(ConfigError, match="secure values are not read here"):
        load_stack_file(stack)
    with pytest.raises(ConfigError, match="no such stack file"):
        load_stack_file(tmp_path / "missing.yaml")


# Random bad input: whatever a user writes, the answer is ConfigError with one line, never another exception.
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 100000), st.floats(allow_nan=False),
                     st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                       max_leaves=8)
_keys = st.sampled_from(sorted(StackConfig.model_fields) + ["sentinal", "replica", "tls", "maxmemory", ""])
_sections = {
    "sentinel": st.fixed_dictionaries({}, optional={"count": _scalars, "quorum": _scalars, "master_name": _scalars,
                                                    "down_after_ms": _scalars, "extra": _scalars}),
    "memory": st.fixed_dictionaries({}, optional={"maxmemory": _scalars, "node_memory": _scalars,
                                                  "policy": _scalars, "maxmem": _scalars}),
    "security": st.fixed_dictionaries({}, optional={"tls": _values, "auth": st.fixed_dictionaries(
        {}, optional={"mode": st.sampled_from(["acl", "password", "x"]), "users": _values}), "disabled_commands": _values}),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.fixed_dictionaries({}, optional={
    "backend": st.sampled_from(["docker", "elasticache", "ec2", "kubernetes", "dockr"]),
    "topology": st.sampled_from(["standalone", "replication", "sentinel", "cluster", "x"]),
    "replicas": _scalars, "engine": st.sampled_from(["redis", "valkey", "memcached"]), "version": _scalars,
    **_sections}), extra=st.dictionaries(_keys, _values, max_size=2))
def test_random_configs_never_traceback(base: dict, extra: dict) -> None:
    try:
        parse_config({**base, **extra}, "Pulumi.fuzz.yaml")
    except ConfigError as error:
        message = str(error)
        assert message.startswith("Pulumi.fuzz.yaml: ") and "\n" not in message
        assert "redis:" in message


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_random_stack_files_never_traceback(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "Pulumi.fuzz.yaml"
    path.write_text(text)
    try:
        load_stack_file(path)
    except ConfigError as error:
        assert "\n" not in str(error)


def test_yaml_dump_of_defaults_round_trips(tmp_path: Path) -> None:
    cfg = parse_config(BASE)
    stack = tmp_path / "Pulumi.rt.yaml"
    data = cfg.model_dump(exclude_none=True)
    stack.write_text(yaml.safe_dump({"config": {f"redis:{k}": v for k, v in data.items()}}))
    assert load_stack_file(stack) == cfg
