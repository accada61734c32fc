"""Rendered redis.conf / sentinel.conf: every REFERENCE.md pitfall has its directives; secrets only in secret files."""
from __future__ import annotations

import hashlib
import re

import pytest

from redisinfra.credentials import generate_secrets
from redisinfra.plan import build_plan
from redisinfra.render import Paths, render_node, render_secret_files
from redisinfra.stack import parse_config


def setup(values: dict, addresses: bool = False):
    cfg = parse_config({"backend": "docker", **values})
    plan = build_plan(cfg)
    if addresses:
        plan = plan.with_addresses({n.name: f"10.0.0.{i + 1}" for i, n in enumerate(plan.all_nodes)})
    return cfg, plan, generate_secrets(cfg)


def directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_every_data_node_has_tls_auth_memory_persistence() -> None:
    cfg, plan, secrets = setup({"topology": "sentinel"})
    for node in plan.nodes:
        conf = directives(render_node(plan, node)["redis.conf"])
        for line in ["port 0", "tls-port 6379", "tls-replication yes", "tls-cert-file /etc/redis/tls/redis.crt",
                     "tls-ca-cert-file /etc/redis/tls/ca.crt", "aclfile /etc/redis/users.acl",
                     "include /etc/redis/secrets.conf", f"maxmemory {cfg.memory.maxmemory_bytes()}",
                     "maxmemory-policy volatile-lru", "appendonly yes", "dir /data",
                     f"replica-announce-ip {node.address}", "replica-announce-port 6379"]:
            assert line in conf, (node.name, line)
        assert ("replicaof redis-0 6379" in conf) == (node.role == "replica")
        secret = render_secret_files(plan, node, secrets)
        # masterauth on the primary too: it can be demoted (pitfall 4).
        assert f'masterauth "{secrets.password("replicator")}"' in secret["secrets.conf"]


def test_no_secret_in_non_secret_files_and_acl_is_hashed() -> None:
    cfg, plan, secrets = setup({"topology": "sentinel"})
    passwords = list(secrets.passwords.values()) + [secrets.sentinel_password]
    for node in plan.all_nodes:
        for text in render_node(plan, node).values():
            assert not any(p in text for p in passwords), node.name
    acl = render_secret_files(plan, plan.nodes[0], secrets)["users.acl"]
    assert not any(p in acl for p in passwords)
    digest = hashlib.sha256(secrets.password("default").encode()).hexdigest()
    default = next(line for line in acl.splitlines() if line.startswith("user default "))
    assert f"#{digest}" in default and "-flushall" in default and "-config" in default
    assert re.search(r"^user replicator on #\w+ resetchannels -@all \+psync \+replconf \+ping$", acl, re.M)


def test_acl_mode_turns_default_off() -> None:
    _, plan, secrets = setup({"topology": "standalone", "security": {"auth": {"mode": "acl", "users": [
        {"name": "app"}, {"name": "ro", "access": "readonly", "keys": "~app:*"}]}}})
    acl = render_secret_files(plan, plan.nodes[0], secrets)["users.acl"]
    assert "user default off" in acl
    assert re.search(r"^user ro on #\w+ ~app:\* &\* -@all \+@read", acl, re.M)


def test_sentinels_share_one_monitor_line_and_auth() -> None:
    cfg, plan, secrets = setup({"topology": "sentinel", "sentinel": {"quorum": 2, "down_after_ms": 3000}}, addresses=True)
    monitors = set()
    for sentinel in plan.sentinels:
        conf = directives(render_node(plan, sentinel)["sentinel.conf"])
        monitors.add(next(line for line in conf if line.startswith("sentinel monitor")))
        assert f"sentinel announce-ip {sentinel.address}" in conf and "sentinel announce-port 26379" in conf
        assert "sentinel auth-user mymaster sentinel" in conf and "tls-replication yes" in conf
        assert "sentinel down-after-milliseconds mymaster 3000" in conf and "port 0" in conf
        assert conf.index(next(line for line in conf if line.startswith("include"))) > conf.index(monitors.copy().pop())
        secret = render_secret_files(plan, sentinel, secrets)["sentinel-secrets.conf"]
        assert f'requirepass "{secrets.sentinel_password}"' in secret
        assert f'sentinel sentinel-pass "{secrets.sentinel_password}"' in secret
        assert f'sentinel auth-pass mymaster "{secrets.password("sentinel")}"' in secret
        assert "resolve-hostnames" not in " ".join(conf)  # IPs: names and IPs never mixed
    assert monitors == {"sentinel monitor mymaster 10.0.0.1 6379 2"}


def test_hostnames_switch_on_sentinel_name_resolution() -> None:
    _, plan, _ = setup({"topology": "sentinel"})
    conf = directives(render_node(plan, plan.sentinels[0])["sentinel.conf"])
    assert "sentinel resolve-hostnames yes" in conf and "sentinel announce-hostnames yes" in conf
    assert conf.index("sentinel resolve-hostnames yes") < conf.index(next(l for l in conf if l.startswith("sentinel monitor")))
    assert "bind * -::*" in conf


def test_cluster_announces_bus_and_tls() -> None:
    _, plan, _ = setup({"topology": "cluster", "replicas": 1}, addresses=True)
    for node in plan.nodes:
        conf = directives(render_node(plan, node)["redis.conf"])
        for line in ["cluster-enabled yes", "cluster-config-file /data/nodes.conf", "tls-cluster yes",
                     f"cluster-announce-ip {node.address}", "cluster-announce-tls-port 6379",
                     "cluster-announce-bus-port 16379", "cluster-port 16379"]:
            assert line in conf, line
        assert not any(line.startswith("replicaof") for line in conf)
    _, named, _ = setup({"topology": "cluster", "replicas": 1})
    conf = directives(render_node(named, named.nodes[0])["redis.conf"])
    assert "cluster-announce-hostname redis-s0-0" in conf and "cluster-preferred-endpoint-type hostname" in conf
    assert not any(line.startswith("cluster-announce-ip") for line in conf)


def test_plaintext_and_persistence_variants() -> None:
    _, plan, _ = setup({"topology": "standalone", "security": {"tls": {"enabled": False}},
                        "persistence": {"mode": "none"}, "restart": "never"})
    conf = directives(render_node(plan, plan.nodes[0])["redis.conf"])
    assert "port 6379" in conf and not any(line.startswith("tls-") for line in conf)
    assert 'save ""' in conf and "appendonly no" in conf
    _, plan, _ = setup({"topology": "standalone", "persistence": {"mode": "rdb", "rdb_schedule": ["900 1"]}})
    conf = directives(render_node(plan, plan.nodes[0])["redis.conf"])
    assert 'save "900 1"' in conf and "appendonly no" in conf


def test_paths_are_the_only_difference() -> None:
    _, plan, _ = setup({"topology": "replication", "replicas": 1})
    node = plan.nodes[1]
    a = render_node(plan, node)["redis.conf"]
    b = render_node(plan, node, Paths("/x/conf", "/x/data", "/x/tls"))["redis.conf"]
    assert a.replace("/etc/redis/tls", "/x/tls").replace("/etc/redis", "/x/conf").replace("/data", "/x/data") == b


def test_no_trailing_comments_on_directives() -> None:
    # Redis has no trailing comments: "port 0 # why" would be a config error.
    _, plan, _ = setup({"topology": "sentinel"}, addresses=True)
    for node in plan.all_nodes:
        for text in render_node(plan, node).values():
            assert all("#" not in line for line in directives(text)), node.name


def test_sentinel_node_is_refused_by_redis_renderer() -> None:
    from redisinfra.render import render_redis_conf

    _, plan, _ = setup({"topology": "sentinel"})
    with pytest.raises(ValueError):
        render_redis_conf(plan, plan.sentinels[0])
