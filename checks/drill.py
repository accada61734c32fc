"""The failover drill (`--drill failover`): a stream of writes acknowledged with WAIT, a failover (Sentinel:
`SENTINEL FAILOVER`; Cluster: `CLUSTER FAILOVER` on a replica), the time until writes succeed again on the new
primary and the number of acknowledged writes lost (must be 0); then the checks again."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.crc import key_slot

from redisinfra.connection import Connection, Endpoint

from .context import Context, cluster_nodes, discover_cluster, one_line
from .model import Result, Settings
from .node import reach
from .runner import exit_code, run_checks

DRILL_TIMEOUT = 30.0  # seconds the new primary has to accept writes
SETTLE_TIMEOUT = 30.0  # seconds the deployment has to pass the checks again (replicas resync, Sentinels converge)
WRITES_AFTER = 0.5  # seconds of writes kept going on the new primary, so loss is measured across the switch
KEY_TTL = 300
DRILL_TOPOLOGIES = ("sentinel", "cluster")


class DrillError(Exception):
    """The drill could not run (one line)."""


@dataclass
class DrillOutcome:
    """What the drill measured."""

    topology: str
    old_primary: str
    new_primary: str = ""
    time_to_writable: float | None = None
    writes: int = 0
    acknowledged: int = 0
    lost: int = 0
    errors: int = 0
    triggers: int = 1
    settle_seconds: float = 0.0
    after: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Writable again, nothing acknowledged lost, and the checks pass again."""
        return self.time_to_writable is not None and self.lost == 0 and exit_code(self.after) == 0

    def summary_line(self) -> str:
        """One line for the table output."""
        writable = f"{self.time_to_writable:.2f}s" if self.time_to_writable is not None else "never"
        return (f"drill failover: {'PASS' if self.ok else 'FAIL'} {self.old_primary} -> {self.new_primary or '?'}, "
                f"writable again after {writable}, {self.acknowledged} acknowledged writes, {self.lost} lost "
                f"({self.writes} attempted, {self.errors} errors during the switch"
                f"{f', failover requested {self.triggers} times' if self.triggers > 1 else ''}); checks pass again after "
                f"{self.settle_seconds:.1f}s")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ok": self.ok, "topology": self.topology, "old_primary": self.old_primary,
                "new_primary": self.new_primary,
                "time_to_writable_seconds": None if self.time_to_writable is None else round(self.time_to_writable, 3),
                "writes": self.writes, "acknowledged": self.acknowledged, "lost": self.lost, "errors": self.errors,
                "triggers": self.triggers, "settle_seconds": round(self.settle_seconds, 2), "after": [r.as_dict() for r in self.after]}


class _Writer(threading.Thread):
    """Writes numbered keys to whatever `locate()` says is the primary; a write counts once WAIT confirms it."""

    def __init__(self, ctx: Context, locate, key_of, replicas: int) -> None:
        super().__init__(daemon=True)
        self.ctx, self.locate, self.key_of, self.replicas = ctx, locate, key_of, replicas
        self.stop = threading.Event()
        self.acked: list[tuple[str, str]] = []  # (key, value)
        self.successes: list[tuple[float, str]] = []  # (time, endpoint name) of each successful SET
        self.endpoints: dict[str, Endpoint] = {}  # name -> endpoint written to (may be a `host:port` fallback)
        self.writes = self.errors = 0
        self.wait_ms = int(min(500, ctx.settings.timeout * 1000))

    def run(self) -> None:
        endpoint: Endpoint | None = None
        conn: redis.Redis | None = None
        index = 0
        while not self.stop.is_set():
            try:
                if conn is None:
                    endpoint = self.locate(None)
                    conn = self.ctx.client(endpoint)
                index += 1
                key, value = self.key_of(index), str(index)
                self.writes += 1
                # SET and WAIT on one connection: WAIT counts the replicas that have this client's writes.
                with conn.pipeline(transaction=False) as pipe:
                    pipe.set(key, value, ex=KEY_TTL)
                    pipe.execute_command("WAIT", self.replicas, self.wait_ms)
                    _, acks = pipe.execute()
                self.endpoints.setdefault(endpoint.name, endpoint)
                self.successes.append((time.monotonic(), endpoint.name))
                if int(acks) >= self.replicas:
                    self.acked.append((key, value))
                elif self.locate(None) != endpoint:
                    # Not replicated: the primary may have been replaced; follow what Sentinel / the cluster says.
                    conn.close()
                    conn = None
            except (redis.RedisError, OSError) as error:
                self.errors += 1
                moved = _moved(error)
                if conn is not None:
                    conn.close()
                conn = None
                if moved is not None:
                    self.locate(moved)
                time.sleep(0.02)
        if conn is not None:
            conn.close()


def _moved(error: BaseException) -> tuple[str, int] | None:
    text = str(error)
    if text.startswith("MOVED") or isinstance(error, redis.exceptions.MovedError):
        address = text.split()[-1]
        host, _, port = address.rpartition(":")
        return host, int(port)
    return None


def _context(connection: Connection, settings: Settings) -> Context:
    ctx = Context(connection, settings)
    for endpoint in connection.endpoints:
        result, conn = reach(ctx, endpoint)
        if conn is None:
            ctx.unreachable[endpoint.name] = result.detail
        else:
            ctx.nodes[endpoint.name] = conn
    ctx.discover_primaries()
    return ctx


def _endpoint(ctx: Context, host: str, port: int) -> Endpoint:
    return ctx.endpoint_at(host, port) or Endpoint(name=f"{host}:{port}", host=host, port=port, role="primary")


def run_drill(connection: Connection, settings: Settings | None = None) -> DrillOutcome:
    """Run the failover drill for a Sentinel or Cluster deployment (DrillError when it cannot run at all)."""
    if connection.topology not in DRILL_TOPOLOGIES:
        raise DrillError(f"the failover drill needs topology sentinel or cluster, not {connection.topology}")
    settings = settings or Settings()
    try:
        connection = discover_cluster(connection, settings.timeout)
    except (redis.RedisError, OSError) as error:
        raise DrillError(f"configuration endpoint: {one_line(error)}") from None
    ctx = _context(connection, settings)
    try:
        if connection.topology == "sentinel":
            outcome = _sentinel_drill(ctx)
        else:
            outcome = _cluster_drill(ctx)
    finally:
        ctx.close()
    _settle(connection, settings, outcome)
    return outcome


def _sentinel_drill(ctx: Context) -> DrillOutcome:
    name = ctx.connection.sentinel_master
    sentinels = [ctx.nodes[e.name] for e in ctx.sentinels if e.name in ctx.nodes]
    old = ctx.primaries.get(0)
    if not sentinels or old is None:
        raise DrillError("no reachable Sentinel names a primary of the contract; run the checks first")
    current = {"endpoint": old}

    def locate(_moved: tuple[str, int] | None) -> Endpoint:
        for sentinel in sentinels:  # the address an application's Sentinel client would get now
            try:
                address = sentinel.sentinel_get_master_addr_by_name(name)
                if address:
                    current["endpoint"] = _endpoint(ctx, str(address[0]), int(address[1]))
                    break
            except redis.RedisError:
                continue
        return current["endpoint"]

    def trigger() -> None:
        sentinels[0].execute_command("SENTINEL", "FAILOVER", name)

    run = uuid.uuid4().hex[:8]  # per drill: keys of an earlier drill can never pass for this one's
    return _drive(ctx, old, locate, trigger, lambda i: f"redis-infra:drill:{run}:{i}")


def _cluster_drill(ctx: Context) -> DrillOutcome:
    old = ctx.primaries.get(0)
    if old is None or old.name not in ctx.nodes:
        raise DrillError("shard 0 has no reachable primary; run the checks first")
    me = _myself(ctx, old)
    # Each replica's own line names its master at once; the master's gossip view can lag behind.
    replica = next((e for e in ctx.data if e.name != old.name and e.name in ctx.nodes
                    and (_myself(ctx, e) or {}).get("master") == (me or {}).get("id")), None)
    if me is None or replica is None:
        raise DrillError(f"{old.name} has no reachable replica to fail over to")
    run, slots = uuid.uuid4().hex[:8], _slot_ranges(me["slots"])
    tag = next(f"{run}-{i}" for i in range(100000) if any(a <= key_slot(f"{{{run}-{i}}}".encode()) <= b for a, b in slots))
    current = {"endpoint": old}

    def locate(moved: tuple[str, int] | None) -> Endpoint:
        if moved is not None:  # the cluster itself tells writers where the slot went
            current["endpoint"] = _endpoint(ctx, *moved)
        return current["endpoint"]

    def trigger() -> None:
        # Manual failover from the replica: the primary pauses writers until the replica has caught up.
        ctx.nodes[replica.name].execute_command("CLUSTER", "FAILOVER")

    # A manual failover times out after 5 s (e.g. within 2 x cluster-node-timeout of a previous election):
    # ask again, as an operator would; the time to writable includes the wait.
    return _drive(ctx, old, locate, trigger, lambda i: f"redis-infra:drill:{{{tag}}}:{i}", retrigger_after=6.0)


def _myself(ctx: Context, endpoint: Endpoint) -> dict | None:
    try:
        return next((n for n in cluster_nodes(ctx.nodes[endpoint.name]) if "myself" in n["flags"]), None)
    except redis.RedisError:
        return None


def _slot_ranges(slots: list[str]) -> list[tuple[int, int]]:
    out = []
    for item in slots:
        if item.startswith("["):  # slots being migrated
            continue
        first, _, last = item.partition("-")
        out.append((int(first), int(last or first)))
    return out


def _drive(ctx: Context, old: Endpoint, locate, trigger, key_of, retrigger_after: float | None = None) -> DrillOutcome:
    outcome = DrillOutcome(ctx.connection.topology, old.name)
    writer = _Writer(ctx, locate, key_of, ctx.connection.expected.replicas_per_shard)
    writer.start()
    try:
        deadline = time.monotonic() + ctx.settings.timeout * 2
        while len(writer.acked) < 20 and time.monotonic() < deadline:  # a baseline of acknowledged writes first
            time.sleep(0.01)
        if not writer.acked:
            raise DrillError(f"no write to {old.name} was acknowledged by {writer.replicas} replicas before the failover")
        started = time.monotonic()
        try:
            trigger()
        except redis.RedisError as error:
            raise DrillError(f"failover refused: {one_line(error)}") from None
        deadline = started + DRILL_TIMEOUT
        last_trigger = started
        while time.monotonic() < deadline:
            if retrigger_after and time.monotonic() - last_trigger > retrigger_after:
                last_trigger = time.monotonic()
                outcome.triggers += 1
                try:
                    trigger()
                except redis.RedisError:
                    pass
            first = next(((t, n) for t, n in list(writer.successes) if t > started and n != old.name), None)
            if first is not None:
                outcome.time_to_writable = first[0] - started
                outcome.new_primary = first[1]
                time.sleep(WRITES_AFTER)
                break
            time.sleep(0.01)
    finally:
        writer.stop.set()
        writer.join(ctx.settings.timeout * 3)
    outcome.writes, outcome.errors, outcome.acknowledged = writer.writes, writer.errors, len(writer.acked)
    if outcome.new_primary:
        written = [key_of(i) for i in range(1, writer.writes + 1)]
        new = _endpoint_named(ctx, outcome.new_primary, writer.endpoints)
        outcome.lost = _lost(ctx, new, writer.acked, written)
    return outcome


def _endpoint_named(ctx: Context, name: str, seen: dict[str, Endpoint] | None = None) -> Endpoint:
    """The endpoint the writers reached under `name`: the contract's, or one they were sent to by address (a node
    announcing an address the contract does not list is recorded as `host:port`)."""
    found = next((e for e in ctx.connection.endpoints if e.name == name), None) or (seen or {}).get(name)
    if found is None:
        raise DrillError(f"the new primary {name} is no endpoint of the contract; cannot count lost writes")
    return found


def _lost(ctx: Context, primary: Endpoint, acked: list[tuple[str, str]], written: list[str]) -> int:
    """Acknowledged writes missing on the new primary; every key the drill wrote is deleted afterwards."""
    try:
        conn = ctx.client(primary)
        try:
            with conn.pipeline(transaction=False) as pipe:
                for key, _ in acked:
                    pipe.get(key)
                values = pipe.execute()
            lost = sum(1 for (_, value), got in zip(acked, values) if got != value)
            with conn.pipeline(transaction=False) as pipe:
                for key in written:
                    pipe.delete(key)
                pipe.execute()
            return lost
        finally:
            conn.close()
    except (redis.RedisError, OSError) as error:
        raise DrillError(f"cannot count lost writes on the new primary {primary.name} "
                         f"({primary.host}:{primary.port}): {one_line(error)}") from None


def _settle(connection: Connection, settings: Settings, outcome: DrillOutcome) -> None:
    """Re-run the checks until they pass (replicas resync, the old primary is demoted) or SETTLE_TIMEOUT passes."""
    started = time.monotonic()
    while True:
        outcome.after = run_checks(connection, settings)
        if exit_code(outcome.after) == 0 or time.monotonic() - started > SETTLE_TIMEOUT:
            break
        time.sleep(0.5)
    outcome.settle_seconds = time.monotonic() - started
