"""Rendered configs on real Redis: each topology in the sandbox, proven with redis-py, and a Sentinel failover."""
from __future__ import annotations

import os
import socket
import ssl
import time
from typing import Iterator

import pytest
import redis

from redisinfra import clients
from redisinfra.sandbox import Sandbox
from redisinfra.stack import parse_config

pytestmark = pytest.mark.redis

FAST_SENTINEL = {"down_after_ms": 1000, "failover_timeout_ms": 5000}
TOPOLOGIES = {
    "standalone": {"backend": "kubernetes", "topology": "standalone", "memory": {"node_memory": "256mb"},
                   "security": {"auth": {"mode": "acl", "users": [{"name": "app"}, {"name": "ro", "access": "readonly"}]}}},
    "replication": {"backend": "ec2", "topology": "replication", "replicas": 1, "memory": {"maxmemory": "100mb",
                    "node_memory": "256mb", "policy": "allkeys-lfu"}, "persistence": {"mode": "aof"}},
    "sentinel": {"backend": "docker", "topology": "sentinel", "zones": ["a", "b", "c"], "sentinel": FAST_SENTINEL},
    "cluster": {"backend": "docker", "topology": "cluster", "replicas": 1, "memory": {"node_memory": "128mb"}},
}


@pytest.fixture(scope="module", params=sorted(TOPOLOGIES))
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(parse_config(TOPOLOGIES[request.param]), timeout=60) as box:
        yield box
    assert all(p.pid is None for p in box.processes.values())
    assert box.base_dir and not os.path.exists(box.base_dir)


def _endpoints(box: Sandbox):
    assert box.connection is not None
    return box.connection.endpoints


def test_plaintext_is_refused(sandbox: Sandbox) -> None:
    for endpoint in _endpoints(sandbox):
        plain = redis.Redis(host=endpoint.host, port=endpoint.port, socket_timeout=2, socket_connect_timeout=2)
        with pytest.raises(redis.ConnectionError):
            plain.ping()


def test_tls_verifies_host_name_and_ca(sandbox: Sandbox) -> None:
    endpoint = _endpoints(sandbox)[0]
    context = ssl.create_default_context(cadata=sandbox.connection.tls.ca_pem)
    with socket.create_connection((endpoint.host, endpoint.port), timeout=2) as raw:
        with context.wrap_socket(raw, server_hostname=endpoint.host) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with socket.create_connection((endpoint.host, endpoint.port), timeout=2) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="someone-else.example")


def test_unauthenticated_commands_are_refused(sandbox: Sandbox) -> None:
    for endpoint in _endpoints(sandbox):
        anonymous = clients.client(sandbox.connection, endpoint, authenticated=False)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        wrong = clients.client(sandbox.connection, endpoint, password="wrong-password")
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()


def test_maxmemory_policy_and_disabled_commands(sandbox: Sandbox) -> None:
    cfg = sandbox.config
    for node in sandbox.plan.nodes:
        with sandbox.client(node.name) as conn:
            memory = conn.info("memory")
            assert memory["maxmemory"] == cfg.memory.maxmemory_bytes()
            assert memory["maxmemory_policy"] == cfg.memory.policy
            for command in ("FLUSHALL", "CONFIG GET maxmemory", "KEYS *", "SHUTDOWN NOSAVE", "MONITOR"):
                with pytest.raises(redis.exceptions.NoPermissionError):
                    conn.execute_command(*command.split())
            persistence = conn.info("persistence")
            assert persistence["aof_enabled"] == int(cfg.persistence.aof)


def test_topology_is_linked(sandbox: Sandbox) -> None:
    cfg = sandbox.config
    if cfg.topology in ("replication", "sentinel"):
        primary = sandbox.plan.primaries()[0]
        with sandbox.client(primary.name) as conn:
            info = conn.info("replication")
            assert info["role"] == "master" and info["connected_slaves"] == cfg.replicas
        for replica in sandbox.plan.replicas_of(primary):
            with sandbox.client(replica.name) as conn:
                info = conn.info("replication")
                assert info["role"] == "slave" and info["master_link_status"] == "up"
                assert info["master_host"] == primary.address
    if cfg.topology == "sentinel":
        for sentinel in sandbox.plan.sentinels:
            with sandbox.client(sentinel.name) as conn:
                assert conn.execute_command("SENTINEL", "CKQUORUM", "mymaster").startswith("OK 3 usable Sentinels")
    if cfg.topology == "cluster":
        for node in sandbox.plan.nodes:
            with sandbox.client(node.name) as conn:
                info = conn.execute_command("CLUSTER", "INFO")
                assert "cluster_state:ok" in info and "cluster_slots_assigned:16384" in info
                assert "cluster_slots_ok:16384" in info and f"cluster_size:{cfg.shards}" in info


def test_monitor_user_reads_metrics_only(sandbox: Sandbox) -> None:
    """The exporter's `monitor` user: INFO and diagnostics, no keys, no CONFIG (CONFIG GET would reveal masterauth)."""
    node = sandbox.plan.nodes[0].name
    with sandbox.client(node, user="monitor") as conn:
        assert conn.info("server")["redis_version"]
        for command in ("GET k", "SET k v", "CONFIG GET masterauth", "ACL LIST", "CLIENT KILL ID 1"):
            with pytest.raises(redis.exceptions.NoPermissionError):
                conn.execute_command(*command.split())


def test_acl_users_and_default_off() -> None:
    with Sandbox(parse_config(TOPOLOGIES["standalone"]), timeout=30) as box:
        node = box.plan.nodes[0].name
        with box.client(node) as app:
            app.set("k", "v")
        with box.client(node, user="ro") as ro:
            assert ro.get("k") == "v"
            with pytest.raises(redis.exceptions.NoPermissionError):
                ro.set("k", "w")
        endpoint = box.connection.endpoints[0]
        default = clients.client(box.connection, endpoint, username="default", password=box.secrets.password("app"))
        with pytest.raises(redis.AuthenticationError):
            default.ping()


def test_sentinel_failover_old_primary_rejoins_without_noauth() -> None:
    with Sandbox(parse_config(TOPOLOGIES["sentinel"]), timeout=60) as box:
        old = box.current_primary()
        with box.client(old.name) as conn:
            conn.set("before", "1")
            assert conn.wait(2, 2000) == 2
        box.kill(old.name)
        deadline = time.monotonic() + 30
        new = None
        while time.monotonic() < deadline:
            try:
                new = box.current_primary()
                break
            except Exception:
                time.sleep(0.2)
        assert new is not None and new.name != old.name
        with box.client(new.name) as conn:
            assert conn.get("before") == "1"
            conn.set("after", "2")

        def sentinels_follow() -> str | None:
            for sentinel in box.plan.sentinels:
                with box.client(sentinel.name) as conn:
                    address = conn.sentinel_get_master_addr_by_name("mymaster")[0]
                if address != new.address:
                    return f"{sentinel.name} still names {address}"
            return None

        box.wait_until("every Sentinel to name the new primary", sentinels_follow, timeout=15)
        box.restart(old.name)

        def rejoined() -> str | None:
            with box.client(old.name) as conn:
                info = conn.info("replication")
            if info["role"] != "slave" or info.get("master_link_status") != "up":
                return f"{old.name}: role {info['role']}, link {info.get('master_link_status')}"
            return None

        box.wait_until("old primary to rejoin as replica", rejoined, timeout=30)
        with box.client(old.name) as conn:
            assert conn.get("after") == "2"
        log = open(box.processes[old.name].log).read()
        assert "NOAUTH" not in log and "-NOPERM" not in log and "Authentication" not in log
        # Sentinel's CONFIG REWRITE on failover must not fold included secrets into the non-secret configs.
        assert_no_secret_outside_secret_files(box)


SECRET_FILES = {"secrets.conf", "users.acl", "sentinel-secrets.conf", "redis.key"}


def assert_no_secret_outside_secret_files(box: Sandbox) -> None:
    """Every file but the secret ones (and Sentinel's 0600 state file) is free of every password."""
    passwords = [p for p in [*box.secrets.passwords.values(), box.secrets.sentinel_password] if p]
    for process in box.processes.values():
        for folder in (process.paths.conf_dir, process.paths.tls_dir, process.paths.data_dir):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if name in SECRET_FILES or (folder == process.paths.data_dir and name == "sentinel.conf"):
                    continue
                if os.path.isfile(path):
                    text = open(path, errors="replace").read()
                    assert not any(p in text for p in passwords), f"a password in {path}"
        if not process.node.is_data:
            assert oct(os.stat(process.paths.sentinel_state).st_mode & 0o777) == "0o600"


def test_nodes_run_unprivileged_with_read_only_config() -> None:
    if os.geteuid() != 0:
        pytest.fail("run as root (CI is) to prove the nodes drop to an unprivileged user")
    with Sandbox(parse_config(TOPOLOGIES["replication"]), timeout=30) as box:
        for process in box.processes.values():
            assert os.stat(f"/proc/{process.pid}").st_uid != 0, process.node.name
            assert os.stat(process.paths.conf_dir).st_mode & 0o777 == 0o555
        with box.client(box.plan.nodes[0].name, user="operator") as conn:
            with pytest.raises(redis.ResponseError, match="Rewriting config file"):
                conn.execute_command("CONFIG", "REWRITE")


def test_sentinel_password_rotation_reaches_sentinels_after_restart() -> None:
    """A redeploy writes new secrets files; the Sentinels' rewritten state must not keep the old password."""
    with Sandbox(parse_config(TOPOLOGIES["sentinel"]), timeout=60) as box:
        old = box.secrets.sentinel_password
        new = "Rotated" + old[7:]
        for sentinel in box.plan.sentinels:
            with box.client(sentinel.name) as conn:
                conn.execute_command("SENTINEL", "FLUSHCONFIG")  # the state file now holds the old password
            paths = box.processes[sentinel.name].paths
            secret = os.path.join(paths.conf_dir, "sentinel-secrets.conf")
            os.chmod(paths.conf_dir, 0o755)
            os.chmod(secret, 0o600)
            with open(secret) as handle:
                text = handle.read()
            with open(secret, "w") as handle:
                handle.write(text.replace(old, new))
            os.chmod(secret, 0o400)
            os.chmod(paths.conf_dir, 0o555)
            assert old in open(paths.sentinel_state).read()
        for sentinel in box.plan.sentinels:
            box.stop(sentinel.name)
            box.restart(sentinel.name)
        box.secrets = type(box.secrets)(box.secrets.passwords, new)
        box.connection = box._connection()
        box.wait_until("Sentinels to agree again", box._sentinels_ok, timeout=30)
        endpoint = box.connection.by_role("sentinel")[0]
        with pytest.raises(redis.AuthenticationError):
            clients.client(box.connection, endpoint, password=old).ping()
