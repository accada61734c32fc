"""The Docker containers' files on real Redis: exactly what each container would get (taken from the recorded
uploads of a mocked `pulumi up`), run by the sandbox with only directories mapped, then the containers' own health
checks, the cluster-join script (twice: it must be idempotent) and the post-deploy checks against the exact
`connection` stack output the Docker stack exports.

Docker nodes all announce `localhost` with one port each, so on this machine they run as they are: no address mapping.
"""
from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
from typing import Any, Iterator

import pytest

from checks.runner import exit_code, run_checks
from components import docker_layout as L
from redisinfra.connection import Connection
from redisinfra.credentials import Secrets, user_names
from redisinfra.mocks import Recording, run_program
from redisinfra.plan import build_plan
from redisinfra.program import main
from redisinfra.sandbox import Prebuilt, Sandbox, map_paths
from redisinfra.render import Paths
from redisinfra.stack import parse_config

from .test_docker import CONTAINER, PASSWORD, as_pulumi_config

pytestmark = pytest.mark.redis

FAST_SENTINEL = {"count": 3, "quorum": 2, "down_after_ms": 1000, "failover_timeout_ms": 5000}
TOPOLOGIES: dict[str, dict[str, Any]] = {
    "standalone": {"name": "solo", "backend": "docker", "version": "7.0", "topology": "standalone", "memory": {"node_memory": "128mb"},
                   "security": {"auth": {"mode": "acl", "users": [{"name": "app"}, {"name": "ro", "access": "readonly"}]},
                                "tls": {"client_auth": "required"}}},
    "replication": {"name": "queue", "backend": "docker", "version": "7.0", "topology": "replication", "replicas": 1,
                    "persistence": {"mode": "aof"}, "memory": {"node_memory": "128mb"}},
    "sentinel": {"name": "redis", "backend": "docker", "version": "7.0", "topology": "sentinel", "replicas": 2, "sentinel": FAST_SENTINEL,
                 "memory": {"node_memory": "128mb"}},
    "cluster": {"name": "cache", "backend": "docker", "version": "7.0", "topology": "cluster", "replicas": 1, "cluster": {"shards": 3},
                "memory": {"node_memory": "128mb"}},
}


def _free_everywhere(port: int) -> bool:
    # Nodes bind every interface (`bind * -::*`), as in their pod.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def free_ports(values: dict[str, Any]) -> dict[str, Any]:
    """The config with a client/Sentinel/bus port range nobody on this machine uses."""
    for _ in range(50):
        base = random.randrange(20000, 30000, 20)
        ports = {"redis": base, "sentinel": base + 10, "cluster_bus": base + 30000}
        wanted = [base + i for i in range(10)] + [base + 10 + i for i in range(5)] + [base + 30000 + i for i in range(10)]
        if all(_free_everywhere(p) for p in wanted):
            return {**values, "ports": ports}
    raise RuntimeError("no free port range")


def prebuilt_from(rec: Recording, values: dict[str, Any], form_cluster=None) -> Prebuilt:
    """What the recorded containers would run: their uploaded files, byte for byte, plus the generated secrets."""
    cfg = parse_config(values)
    plan = L.layout(build_plan(cfg))
    files = {n.name: {u["file"]: u["content"] for u in rec.one(CONTAINER, n.name).inputs["uploads"]}
             for n in plan.all_nodes}
    by_name = {r.name: r.outputs["result"] for r in rec.by_type(PASSWORD)}
    secrets = Secrets({u: by_name[f"{cfg.name}-password-{u}"] for u in user_names(cfg)},
                      by_name.get(f"{cfg.name}-password-sentinel-auth", ""))
    contract = Connection.model_validate(rec.outputs["connection"])
    client = ((contract.tls.client_cert_pem, contract.tls.client_key_pem.get_secret_value())
              if contract.tls.client_cert_pem and contract.tls.client_key_pem else None)
    return Prebuilt(plan=plan, secrets=secrets, files=files, paths=L.PATHS, ca_pem=contract.tls.ca_pem,
                    client_pems=client, form_cluster=form_cluster)


class JoinContainer:
    """The cluster-join container's files in a private directory, its script run as the container would run it."""

    def __init__(self, rec: Recording, values: dict[str, Any]) -> None:
        self.dir = tempfile.mkdtemp(prefix="redis-infra-join-")
        self.paths = Paths(conf_dir=self.dir, data_dir=os.path.join(self.dir, "data"), tls_dir=os.path.join(self.dir, "tls"))
        os.makedirs(self.paths.tls_dir, mode=0o700)
        join = rec.one(CONTAINER, f"{values['name']}-cluster-join")
        for upload in join.inputs["uploads"]:
            path = map_paths(upload["file"], L.PATHS, self.paths)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(map_paths(upload["content"], L.PATHS, self.paths))
        self.entrypoint = [map_paths(a, L.PATHS, self.paths) for a in join.inputs["entrypoints"]]
        self.runs: list[subprocess.CompletedProcess] = []

    def __call__(self, _sandbox: Sandbox | None = None) -> None:
        result = subprocess.run(self.entrypoint, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.runs.append(result)
        assert result.returncode == 0, f"cluster-join failed: {result.stdout} {result.stderr}"

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module", params=sorted(TOPOLOGIES))
def deployed(request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, Any], Recording, Sandbox, JoinContainer | None]]:
    values = free_ports(TOPOLOGIES[request.param])
    # Module-scoped (one sandbox per topology), so the harness is called directly rather than via `pulumi_run`.
    rec = run_program(main, as_pulumi_config(values), stack="dev")
    join = JoinContainer(rec, values) if values["topology"] == "cluster" else None
    try:
        with Sandbox(parse_config(values), timeout=60, prebuilt=prebuilt_from(rec, values, join)) as box:
            yield values, rec, box, join
        assert all(p.pid is None for p in box.processes.values())
    finally:
        if join:
            join.cleanup()


def test_sandbox_ran_the_exact_container_files(deployed) -> None:
    values, rec, box, _join = deployed
    for node in box.plan.all_nodes:
        process = box.processes[node.name]
        for upload in rec.one(CONTAINER, node.name).inputs["uploads"]:
            path = map_paths(upload["file"], L.PATHS, process.paths)
            with open(path) as handle:
                written = handle.read()
            assert written == map_paths(upload["content"], L.PATHS, process.paths)
            # Only directories differ: map them back and the bytes are the container's.
            assert written.replace(process.paths.tls_dir, L.PATHS.tls_dir).replace(
                process.paths.conf_dir, L.PATHS.conf_dir).replace(process.paths.data_dir, L.PATHS.data_dir) == upload["content"]


def test_container_health_checks_pass(deployed) -> None:
    _values, rec, box, _join = deployed
    for node in box.plan.all_nodes:
        kind, command = rec.one(CONTAINER, node.name).inputs["healthcheck"]["tests"]
        assert kind == "CMD-SHELL"
        result = subprocess.run(["sh", "-c", map_paths(command, L.PATHS, box.processes[node.name].paths)],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{node.name} health check failed: {result.stdout} {result.stderr}"


def test_health_check_fails_when_the_node_is_down_and_recovers(deployed) -> None:
    _values, rec, box, _join = deployed
    node = box.plan.nodes[-1]  # a replica (the only node of standalone): no failover is triggered
    kind, command = rec.one(CONTAINER, node.name).inputs["healthcheck"]["tests"]
    box.stop(node.name)
    result = subprocess.run(["sh", "-c", map_paths(command, L.PATHS, box.processes[node.name].paths)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    box.restart(node.name)  # from its own files (a cluster node from its persisted nodes.conf, pitfall 7)
    box.wait_healthy()
    if box.plan.sentinels:
        box.wait_until("Sentinels to see the restarted node up", lambda: _sentinels_see_all_up(box))
    result = subprocess.run(["sh", "-c", map_paths(command, L.PATHS, box.processes[node.name].paths)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _sentinels_see_all_up(box: Sandbox) -> str | None:
    name = box.config.sentinel.master_name
    for sentinel in box.plan.sentinels:
        with box.client(sentinel.name) as conn:
            for peer in conn.sentinel_slaves(name) + conn.sentinel_sentinels(name):
                if peer.get("is_sdown") or "s_down" in str(peer.get("flags")):
                    return f"{sentinel.name} sees {peer.get('name')} down"
    return None


def test_post_deploy_checks_pass_on_the_exported_contract(deployed) -> None:
    values, rec, box, _join = deployed
    connection = Connection.model_validate(rec.outputs["connection"])
    assert connection.backend == "docker"
    results = run_checks(connection)
    failures = [r for r in results if r.status == "fail"]
    assert not failures, [f"{r.check} {r.target}: {r.detail}" for r in failures]
    assert sum(r.status == "pass" for r in results) >= 3 * len(connection.endpoints)


def test_cluster_join_is_idempotent(deployed) -> None:
    values, _rec, box, join = deployed
    if values["topology"] != "cluster":
        return
    assert join is not None and len(join.runs) >= 1
    assert "cluster formed" in join.runs[0].stdout
    join()
    assert "already formed" in join.runs[-1].stdout
    # Replicas follow the primary the plan (and the contract) gives them.
    for node in box.plan.nodes:
        if node.primary:
            with box.client(node.name, user="operator") as conn:
                info = conn.info("replication")
            assert info["role"] == "slave" and int(info["master_port"]) == box.plan.node(node.primary).port
