"""The sandbox: a stack's plan realised as real local `redis-server` / `redis-sentinel` processes.

Each node gets its own loopback address (127.a.b.n) and the deployment's real ports, a throwaway CA and its own
certificate, and exactly the rendered files (only addresses and paths differ). `up()` waits until the topology is
healthy; `down()` stops only the processes it started (by pid) and removes its temporary directory.
"""
from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import redis

from . import clients
from .config import StackConfig
from .connection import Connection, Endpoint, from_plan
from .credentials import Secrets, generate_secrets
from .plan import Node, Plan, build_plan
from .render import TLS_CA, TLS_CERT, TLS_KEY, Paths, render_node, render_secret_files, sentinel_launch
from .tlsgen import CertificateAuthority

CLUSTER_SLOTS = 16384
_PR_SET_PDEATHSIG = 1


class SandboxError(Exception):
    """The sandbox could not be brought up or did not become healthy (message is one line)."""


def server_binary(engine: str, sentinel: bool = False) -> str:
    """The server binary: Valkey's when installed, else Redis's (Valkey reads the same config)."""
    names = ["valkey-sentinel", "redis-sentinel"] if sentinel else ["valkey-server", "redis-server"]
    if engine != "valkey":
        names = names[1:]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise SandboxError(f"{names[-1]} is not installed; run `make deps` (apt-get install redis-server redis-sentinel)")


def _die_with_parent() -> None:
    # Runs in the child before exec: if the sandbox process dies (even SIGKILL), the kernel stops its nodes.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def loopback_addresses(plan: Plan, rng: random.Random | None = None) -> dict[str, str]:
    """One free 127.a.b.n address per node, all in one /24 nobody else is using on the plan's ports."""
    rng = rng or random.Random()
    ports = sorted({n.port for n in plan.all_nodes} | {n.bus_port for n in plan.nodes if n.bus_port})
    for _ in range(50):
        a, b = rng.randint(10, 250), rng.randint(1, 250)
        mapping = {node.name: f"127.{a}.{b}.{i + 1}" for i, node in enumerate(plan.all_nodes)}
        if all(_free(address, port) for address in mapping.values() for port in ports):
            return mapping
    raise SandboxError("no free loopback /24 found for the sandbox")


@dataclass(frozen=True)
class Prebuilt:
    """Files rendered elsewhere (e.g. what the Docker backend uploads into its containers), run exactly as they are.

    Only the directories are mapped (`paths` -> the sandbox's per-node directories), in file locations and contents.
    The plan's addresses must be reachable on this machine (loopback, or a name resolving to it).
    """

    plan: Plan
    secrets: Secrets
    files: dict[str, dict[str, str]]  # node name -> {absolute path in the deployment: text}
    paths: Paths  # the deployment's directories
    ca_pem: str | None = None
    client_pems: tuple[str, str] | None = None
    form_cluster: Callable[["Sandbox"], None] | None = None  # replaces the sandbox's own cluster formation


def map_paths(text: str, source: Paths, target: Paths) -> str:
    """`text` with the deployment's directories replaced by the sandbox's (TLS dir first: it sits in conf_dir)."""
    import re

    for old, new in ((source.tls_dir, target.tls_dir), (source.conf_dir, target.conf_dir),
                     (source.data_dir, target.data_dir)):
        text = re.sub(rf"(?<![\w/.-]){re.escape(old)}(?=/|\s|\"|'|$)", new.replace("\\", "\\\\"), text, flags=re.M)
    return text


@dataclass
class Process:
    """One started node."""

    node: Node
    paths: Paths
    config_file: str
    popen: subprocess.Popen | None = None
    log: str = ""
    stopped: bool = False  # stopped on purpose (kill/stop): not a crash

    @property
    def pid(self) -> int | None:
        """pid while running."""
        return self.popen.pid if self.popen and self.popen.poll() is None else None


@dataclass
class Sandbox:
    """A local realisation of one stack config."""

    config: StackConfig
    keep: bool = False
    timeout: float = 60.0
    base_dir: str | None = None
    plan: Plan = field(init=False)
    secrets: Secrets = field(init=False)
    processes: dict[str, Process] = field(init=False, default_factory=dict)
    connection: Connection | None = field(init=False, default=None)
    ca: CertificateAuthority | None = field(init=False, default=None)
    client_pems: tuple[str, str] | None = field(init=False, default=None)  # (cert, key) for mutual TLS
    started_at: float = field(init=False, default=0.0)
    ready_seconds: float = field(init=False, default=0.0)
    prebuilt: Prebuilt | None = None
    run_as: tuple[int, int] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.run_as = unprivileged_ids()
        if self.prebuilt is not None:
            self.plan, self.secrets = self.prebuilt.plan, self.prebuilt.secrets
            return
        plan = build_plan(self.config)
        self.plan = plan.with_addresses(loopback_addresses(plan))
        self.secrets = generate_secrets(self.config)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> "Sandbox":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            self.down()

    def up(self) -> Connection:
        """Write every node's files, start the processes, form the cluster if any, and wait until healthy."""
        self.started_at = time.monotonic()
        self.base_dir = self.base_dir or tempfile.mkdtemp(prefix="redis-infra-sandbox-")
        os.chmod(self.base_dir, 0o711)  # nodes running as an unprivileged user must reach their own directory
        if self.run_as and not _traversable(os.path.dirname(self.base_dir)):
            self.run_as = None  # a private TMPDIR: nodes cannot reach it unprivileged, so they run as we do
        self._write_files()
        self.connection = self._connection()
        for process in self.processes.values():
            if process.node.is_data:
                self._start(process)
        if self.plan.sentinels:
            # Sentinels start once replication is linked: their first INFO of the primary then lists every
            # replica, instead of learning them at the next 10-second INFO round.
            self.wait_until("replication links", self._replication_ok)
            for sentinel in self.plan.sentinels:
                self._start(self.processes[sentinel.name])
        if self.config.topology == "cluster":
            form = self.prebuilt.form_cluster if self.prebuilt and self.prebuilt.form_cluster else Sandbox._form_cluster
            form(self)
        self.wait_healthy()
        self.ready_seconds = time.monotonic() - self.started_at
        return self.connection

    def down(self) -> None:
        """Stop every process this sandbox started (by pid) and remove its directory, whatever fails on the way."""
        for process in self.processes.values():
            try:
                self.stop(process.node.name)
            except BaseException:  # noqa: BLE001 - a second interrupt must not leave the other nodes running
                if process.popen is not None and process.popen.poll() is None:
                    process.popen.kill()
        if self.base_dir and os.path.isdir(self.base_dir):
            remove_tree(self.base_dir)

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        """Stop one node (SIGTERM, then SIGKILL after `wait` seconds); a no-op when it is not running."""
        process = self.processes[name]
        process.stopped = True
        popen = process.popen
        if popen is None or popen.poll() is not None:
            return
        popen.send_signal(sig)
        try:
            popen.wait(wait)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)

    def kill(self, name: str) -> None:
        """SIGKILL one node: a crash, as in a failover drill."""
        self.stop(name, signal.SIGKILL)

    def restart(self, name: str) -> None:
        """Start a stopped node again from its own (possibly rewritten) config file."""
        process = self.processes[name]
        if process.pid is None:
            process.stopped = False
            self._start(process)

    # -- files and processes ---------------------------------------------------------------------------------

    def _node_paths(self, node: Node) -> Paths:
        """This node's own directories under the sandbox (created, private)."""
        assert self.base_dir is not None
        root = Path(self.base_dir) / node.name
        paths = Paths(conf_dir=str(root / "conf"), data_dir=str(root / "data"), tls_dir=str(root / "tls"))
        for folder in (paths.conf_dir, paths.data_dir, paths.tls_dir):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        return paths

    def _register(self, node: Node, paths: Paths) -> None:
        _lock_down(paths, self.run_as)
        config_file = paths.conf("redis.conf") if node.is_data else paths.sentinel_state
        log = str(Path(paths.conf_dir).parent / "node.log")
        self.processes[node.name] = Process(node, paths, config_file, log=log)

    def _write_files(self) -> None:
        if self.prebuilt is not None:
            self._write_prebuilt(self.prebuilt)
            return
        tls = self.config.security.tls.enabled
        if tls:
            self.ca = CertificateAuthority()
            client = self.ca.issue("redis-infra-client", [])
            self.client_pems = (client.cert_pem, client.key_pem)
        for node in self.plan.all_nodes:
            paths = self._node_paths(node)
            for name, text in render_node(self.plan, node, paths).items():
                _write(Path(paths.conf_dir) / name, text, 0o644)
            for name, text in render_secret_files(self.plan, node, self.secrets).items():
                _write(Path(paths.conf_dir) / name, text, 0o600)
            if tls and self.ca:
                pair = self.ca.issue(node.name, [node.address, node.name])
                _write(Path(paths.tls(TLS_CERT)), pair.cert_pem, 0o644)
                _write(Path(paths.tls(TLS_KEY)), pair.key_pem, 0o600)
                _write(Path(paths.tls(TLS_CA)), self.ca.cert_pem, 0o644)
            self._register(node, paths)

    def _write_prebuilt(self, prebuilt: Prebuilt) -> None:
        self.client_pems = prebuilt.client_pems
        for node in self.plan.all_nodes:
            paths = self._node_paths(node)
            for path, text in prebuilt.files[node.name].items():
                _write(Path(map_paths(path, prebuilt.paths, paths)), map_paths(text, prebuilt.paths, paths), 0o600)
            self._register(node, paths)

    def _start(self, process: Process) -> None:
        binary = server_binary(self.config.engine, sentinel=not process.node.is_data)
        # Sentinels start exactly as in a deployment: the shared launcher seeds the state file once (pitfall 3).
        argv = [binary, process.config_file] if process.node.is_data else ["sh", "-c", sentinel_launch(process.paths, binary)]
        uid, gid = self.run_as or (None, None)
        log = open(process.log, "ab")
        try:
            process.popen = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=process.paths.data_dir, start_new_session=True, user=uid, group=gid,
                extra_groups=[] if uid is not None else None,
                preexec_fn=None if self.keep else _die_with_parent)
        finally:
            log.close()

    def _connection(self) -> Connection:
        ca_pem = self.prebuilt.ca_pem if self.prebuilt else (self.ca.cert_pem if self.ca else None)
        return from_plan(self.plan, self.secrets, ca_pem, backend="sandbox",
                         client=self.client_pems if self.config.security.tls.client_auth == "required" else None)

    def client(self, name: str, *, user: str | None = None, timeout: float = 2.0) -> redis.Redis:
        """An authenticated client for a node (application user, or an internal user by name)."""
        assert self.connection is not None
        overrides = {"username": user, "password": self.secrets.password(user)} if user else {}
        return clients.client(self.connection, endpoint(self.connection, name), timeout=timeout, **overrides)

    def log_tail(self, name: str, lines: int = 5) -> str:
        """The last lines of a node's log, one line (for error messages)."""
        try:
            text = Path(self.processes[name].log).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    # -- health ----------------------------------------------------------------------------------------------

    def _dead(self) -> str | None:
        for name, process in self.processes.items():
            if process.popen is not None and not process.stopped and process.popen.poll() is not None:
                return f"{name} exited with code {process.popen.returncode}: {self.log_tail(name)}"
        return None

    def wait_until(self, what: str, probe: Callable[[], str | None], timeout: float | None = None) -> None:
        """Poll `probe` (None = ready, else why not) until ready; SandboxError with the last reason on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        reason = "not checked"
        while time.monotonic() < deadline:
            dead = self._dead()
            if dead:
                raise SandboxError(dead)
            try:
                reason = probe()
            except (redis.RedisError, OSError, SandboxError) as error:
                reason = f"{type(error).__name__}: {error}"
            if reason is None:
                return
            time.sleep(0.1)
        raise SandboxError(f"timed out after {timeout or self.timeout:.0f}s waiting for {what}: {reason}")

    def wait_healthy(self) -> None:
        """Wait for every node to answer, replication links up, Sentinels agreeing, cluster slots assigned."""
        self.wait_until("every node to answer PING", self._all_ping)
        if self.config.topology in ("replication", "sentinel"):
            self.wait_until("replication links", self._replication_ok)
        if self.config.topology == "sentinel":
            self.wait_until("Sentinels to agree", self._sentinels_ok)
        if self.config.topology == "cluster":
            self.wait_until("cluster state ok", self._cluster_ok)

    def _all_ping(self) -> str | None:
        for node in self.plan.all_nodes:
            with self.client(node.name) as conn:
                conn.ping()
        return None

    def current_primary(self) -> Node:
        """The data node that currently reports role master (non-cluster topologies)."""
        for node in self.plan.nodes:
            if self.processes[node.name].pid is None:
                continue
            try:
                with self.client(node.name) as conn:
                    if conn.info("replication").get("role") == "master":
                        return node
            except redis.RedisError:
                continue
        raise SandboxError("no data node reports role master")

    def _replication_ok(self) -> str | None:
        primary = self.current_primary()
        with self.client(primary.name) as conn:
            info = conn.info("replication")
        online = [k for k, v in info.items() if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"]
        expected = len(self.plan.nodes) - 1
        if len(online) != expected:
            return f"{primary.name} has {len(online)} of {expected} replicas online"
        return None

    def _sentinels_ok(self) -> str | None:
        cfg = self.config
        assert cfg.sentinel is not None
        name = cfg.sentinel.master_name
        seen = set()
        for sentinel in self.plan.sentinels:
            with self.client(sentinel.name) as conn:
                address = conn.sentinel_get_master_addr_by_name(name)
                seen.add(tuple(address) if address else None)
                master = conn.sentinel_master(name)
                if master.get("num-other-sentinels") != cfg.sentinel.count - 1:
                    return f"{sentinel.name} sees {master.get('num-other-sentinels')} other Sentinels, expected {cfg.sentinel.count - 1}"
                if master.get("num-slaves") != len(self.plan.nodes) - 1:
                    return f"{sentinel.name} sees {master.get('num-slaves')} replicas"
                result = conn.execute_command("SENTINEL", "CKQUORUM", name)
                if not str(result).startswith("OK"):
                    return f"{sentinel.name}: CKQUORUM {result}"
        if len(seen) != 1:
            return f"Sentinels disagree on the primary: {sorted(map(str, seen))}"
        return None

    def _form_cluster(self) -> None:
        """Join the nodes: slots to primaries, MEET, then replicas follow their primary (idempotent)."""
        primaries = self.plan.primaries()
        self.wait_until("cluster nodes to answer", self._all_ping)
        first = primaries[0]
        ids: dict[str, str] = {}
        per_shard = CLUSTER_SLOTS // len(primaries)
        # Slots first, MEET after: a node that already gossiped with others would see their slots as taken.
        for index, primary in enumerate(primaries):
            start = index * per_shard
            end = CLUSTER_SLOTS - 1 if index == len(primaries) - 1 else start + per_shard - 1
            with self.client(primary.name, user="operator") as conn:
                myself = next(line for line in conn.execute_command("CLUSTER", "NODES").splitlines() if "myself" in line)
                if len(myself.split()) <= 8:  # owns no slots yet (re-running the join must not re-add them)
                    conn.execute_command("CLUSTER", "ADDSLOTSRANGE", start, end)
        for node in self.plan.nodes:
            with self.client(node.name, user="operator") as conn:
                ids[node.name] = conn.execute_command("CLUSTER", "MYID")
                if node.name != first.name:
                    conn.execute_command("CLUSTER", "MEET", first.address, node.port, node.bus_port)
        self.wait_until("every node to know every other", lambda: self._cluster_known(len(self.plan.nodes)))
        for node in self.plan.nodes:
            if node.primary:
                with self.client(node.name, user="operator") as conn:
                    self._retry(lambda c=conn, p=ids[node.primary]: c.execute_command("CLUSTER", "REPLICATE", p))

    def _retry(self, action: Callable[[], object]) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                action()
                return
            except redis.ResponseError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _cluster_known(self, count: int) -> str | None:
        for node in self.plan.nodes:
            with self.client(node.name, user="operator") as conn:
                known = int(_info_field(conn.execute_command("CLUSTER", "INFO"), "cluster_known_nodes"))
                if known != count:
                    return f"{node.name} knows {known} of {count} nodes"
        return None

    def _cluster_ok(self) -> str | None:
        for node in self.plan.nodes:
            with self.client(node.name, user="operator") as conn:
                info = conn.execute_command("CLUSTER", "INFO")
                if _info_field(info, "cluster_state") != "ok":
                    return f"{node.name}: cluster_state {_info_field(info, 'cluster_state')}"
                if _info_field(info, "cluster_slots_ok") != str(CLUSTER_SLOTS):
                    return f"{node.name}: {_info_field(info, 'cluster_slots_ok')} slots ok"
                # Every node's own view must show every replica, or a client that asks it sees a partial layout.
                lines = conn.execute_command("CLUSTER", "NODES").splitlines()
                replicas = sum("slave" in line.split()[2].split(",") for line in lines if len(line.split()) > 2)
                if replicas != len(self.plan.nodes) - len(self.plan.primaries()):
                    return f"{node.name} sees {replicas} replicas"
                if node.primary:
                    replication = conn.info("replication")
                    if replication.get("master_link_status") != "up":
                        return f"{node.name}: replication link {replication.get('master_link_status')}"
        for primary in self.plan.primaries():
            with self.client(primary.name, user="operator") as conn:
                if conn.info("replication").get("connected_slaves") != self.config.replicas:
                    return f"{primary.name}: replicas not all connected"
        return None

    # -- state for KEEP=1 / sandbox-down --------------------------------------------------------------------

    def state(self) -> dict:
        """What `sandbox-down` needs to stop this sandbox later: its pids and directory."""
        return {"name": self.config.name, "base_dir": self.base_dir,
                "pids": {name: p.pid for name, p in self.processes.items() if p.pid}}


# Files a node may read but that hold no secret; everything else in its directories is readable by it alone.
_PUBLIC_FILES = frozenset({"redis.conf", "sentinel.conf", TLS_CERT, TLS_CA})


def unprivileged_ids() -> tuple[int, int] | None:
    """(uid, gid) of `nobody` when the sandbox runs as root, so nodes run unprivileged as in containers; else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _traversable(path: str) -> bool:
    """True when every folder up to `path` lets other users pass (the x bit for others)."""
    current = os.path.abspath(path)
    while True:
        if not os.stat(current).st_mode & 0o001:
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def _lock_down(paths: Paths, run_as: tuple[int, int] | None) -> None:
    """Config and TLS directories read-only for the node, as in a container.

    Sentinel sends CONFIG REWRITE to data nodes on failover: with a writable config that folds the included
    secrets (masterauth) into redis.conf. Read-only, the rewrite fails harmlessly and secrets stay in secret files.
    """
    for folder in (paths.conf_dir, paths.tls_dir):
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if run_as:
                os.chown(path, *run_as)
            os.chmod(path, 0o444 if name in _PUBLIC_FILES else 0o400)
        os.chmod(folder, 0o555)
    if run_as:
        os.chown(paths.data_dir, *run_as)
    os.chmod(paths.data_dir, 0o700)
    os.chmod(os.path.dirname(paths.data_dir), 0o711)


def remove_tree(base: str) -> None:
    """Remove a sandbox directory, read-only folders included."""
    for root, dirs, _files in os.walk(base):
        for name in dirs:
            try:
                os.chmod(os.path.join(root, name), 0o700)
            except OSError:
                pass
    shutil.rmtree(base, ignore_errors=True)


def _info_field(info: object, key: str) -> str:
    if isinstance(info, dict):
        return str(info.get(key, ""))
    for line in str(info).splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def running_in(pid: int, base: str) -> bool:
    """True when `pid` is alive with its working directory under `base` (Redis rewrites its command line)."""
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and (cwd == base or cwd.startswith(base.rstrip("/") + "/"))


def stop_state(state: dict) -> list[str]:
    """Stop the processes recorded in a state file, only those still running from its directory; remove it."""
    stopped = []
    base = state.get("base_dir") or ""
    for name, pid in (state.get("pids") or {}).items():
        if base and running_in(pid, base):  # never signal a pid that was reused by someone else's process
            os.kill(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + 10
    pids = [pid for name, pid in (state.get("pids") or {}).items() if name in stopped]
    while time.monotonic() < deadline and any(running_in(pid, base) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        # Redis refuses SIGTERM when its shutdown save fails (e.g. its directory is gone): then it is killed.
        if running_in(pid, base):
            os.kill(pid, signal.SIGKILL)
    if os.path.basename(base).startswith("redis-infra-sandbox-") and os.path.isdir(base):
        remove_tree(base)
    return stopped


def endpoint(connection: Connection, name: str) -> Endpoint:
    """The endpoint of a node by name."""
    return next(e for e in connection.endpoints if e.name == name)


def save_state(path: Path, sandbox: Sandbox) -> None:
    """Record a kept sandbox (mode 0600: it sits beside the connection file holding passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, json.dumps(sandbox.state(), indent=2), 0o600)
