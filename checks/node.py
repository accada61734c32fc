"""Checks of one node at a time: reach, TLS, auth, disabled commands, memory, persistence, version, latency."""
from __future__ import annotations

import socket
import statistics
import time

import redis

from redisinfra.connection import Endpoint

from .context import Context, one_line
from .model import Result, failed, passed, skipped, verdict, warned

DEFAULT_PLAINTEXT_PORTS = {"sentinel": 26379}
DEFAULT_DATA_PORT = 6379
PROBE_ARG = "redis-infra-probe"


def _size(value: int) -> str:
    for unit, factor in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
        if value >= factor and value % factor == 0:
            return f"{value // factor}{unit}"
    return f"{value} bytes"


# -- reach --------------------------------------------------------------------------------------------------

def reach(ctx: Context, endpoint: Endpoint) -> tuple[Result, redis.Redis | None]:
    """Connect (TLS verified against the contract's CA and the host name), authenticate, PING."""
    conn = ctx.client(endpoint)
    started = time.perf_counter()
    try:
        conn.ping()
    except (redis.RedisError, OSError) as error:
        conn.close()
        return failed("reach", endpoint.name, f"{endpoint.host}:{endpoint.port}: {one_line(error)}"), None
    elapsed = (time.perf_counter() - started) * 1000
    how = "TLS verified (CA + host name)" if ctx.connection.tls.enabled else "plaintext (TLS off in the contract)"
    return passed("reach", endpoint.name, f"PONG as {_user(ctx, endpoint)} in {elapsed:.1f} ms, {how}"), conn


def _user(ctx: Context, endpoint: Endpoint) -> str:
    return "Sentinel client" if endpoint.role == "sentinel" else ctx.connection.credentials.username


# -- TLS enforced -------------------------------------------------------------------------------------------

def plaintext_answer(host: str, port: int, timeout: float) -> str | None:
    """What a plaintext PING gets on host:port: the RESP reply when plaintext is served, else None (refused)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(128)
    except OSError:  # refused, reset by the TLS listener, or silent until the timeout
        return None
    if reply[:1] in (b"+", b"-"):  # a RESP reply: the port speaks plaintext (even a NOAUTH error proves it)
        return reply.decode(errors="replace").strip()
    return None


def tls(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """Plaintext refused on the node's port, on the plaintext port the node reports, and on the default port."""
    if not ctx.connection.tls.enabled:
        return warned("tls", endpoint.name, "TLS is off for this deployment (tls.enabled false): traffic is plaintext")
    ports = {endpoint.port, DEFAULT_PLAINTEXT_PORTS.get(endpoint.role, DEFAULT_DATA_PORT)}
    try:
        # INFO's tcp_port is the plaintext port when one is open (with `port 0` it repeats the TLS port).
        reported = int(conn.info("server").get("tcp_port") or 0)
        if reported:
            ports.add(reported)
    except (redis.RedisError, ValueError):
        pass
    open_ports = []
    for port in sorted(ports):
        answer = plaintext_answer(endpoint.host, port, ctx.settings.timeout)
        if answer is not None:
            beside = f" beside TLS on {endpoint.port}" if port != endpoint.port else ""
            open_ports.append(f"plaintext accepted on {endpoint.host}:{port}{beside} (PING answered {answer[:40]!r})")
    return verdict("tls", endpoint.name, open_ports,
                   f"plaintext refused on port{'s' if len(ports) > 1 else ''} {', '.join(map(str, sorted(ports)))}")


# -- auth enforced ------------------------------------------------------------------------------------------

def auth(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """An unauthenticated PING is refused; with ACLs the `default` user is off."""
    problems: list[str] = []
    if endpoint.role == "sentinel" and ctx.connection.credentials.sentinel_password is None:
        return warned("auth", endpoint.name, "the contract gives no Sentinel password: Sentinels accept anyone")
    anonymous = ctx.client(endpoint, authenticated=False)
    try:
        anonymous.ping()
        problems.append("unauthenticated PING answered PONG (auth off)")
    except (redis.AuthenticationError, redis.ResponseError) as error:
        if "NOAUTH" not in str(error) and "Authentication required" not in str(error):
            problems.append(f"unauthenticated PING: unexpected {one_line(error)}")
    except (redis.RedisError, OSError) as error:
        problems.append(f"unauthenticated PING: {one_line(error)}")
    finally:
        anonymous.close()
    detail = "unauthenticated PING refused (NOAUTH)"
    if endpoint.role != "sentinel" and ctx.connection.expected.acl:
        problem, note = _default_user_off(ctx, endpoint, conn)
        if problem:
            problems.append(problem)
        detail += f"; {note}"
    return verdict("auth", endpoint.name, problems, detail)


def _default_user_off(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> tuple[str | None, str]:
    try:
        user = conn.acl_getuser("default")
    except redis.ResponseError as error:  # NOPERM: the application user may not read ACLs (as it should)
        # Fall back to what we can prove: the default user does not take the application's password.
        probe = ctx.client(endpoint, authenticated=False)
        try:
            probe.execute_command("AUTH", "default", ctx.connection.credentials.password.get_secret_value())
            return "user default accepts the application password", ""
        except redis.RedisError:
            why = "NOPERM" if "permission" in str(error).lower() else one_line(str(error))[:60]
            return None, (f"ACL flags of default not readable as {ctx.connection.credentials.username} "
                          f"({why}); default refuses the application password")
        finally:
            probe.close()
    flags = (user or {}).get("flags", [])
    if "on" in flags:
        return f"ACL user default is on (flags {' '.join(flags)}), expected off", ""
    return None, "ACL user default is off"


# -- dangerous commands really unavailable ---------------------------------------------------------------------

def commands(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """Each disabled command is refused for the application user (probed inside MULTI + DISCARD: never executed)."""
    disabled = ctx.connection.expected.disabled_commands
    if not disabled:
        return skipped("commands", endpoint.name, "no disabled commands expected")
    available, refused, unprobed = [], [], []
    raw = conn.connection_pool.get_connection()
    try:
        for command in disabled:
            state = _probe(raw, command)
            if state in ("available", "refused"):
                (available if state == "available" else refused).append(command)
            else:
                unprobed.append((command, state))
    except (redis.RedisError, OSError) as error:
        raw.disconnect()
        return failed("commands", endpoint.name, f"probe failed: {one_line(error)}")
    finally:
        conn.connection_pool.release(raw)
    problems = [f"{', '.join(available)} available to {ctx.connection.credentials.username} (expected disabled)"] if available else []
    if unprobed and not problems:
        reasons: dict[str, list[str]] = {}
        for command, state in unprobed:
            reasons.setdefault(state, []).append(command)
        listing = "; ".join(f"{', '.join(names)} ({state})" for state, names in reasons.items())
        return warned("commands", endpoint.name, f"refused: {', '.join(refused) or 'none'}; not probed: {listing}")
    return verdict("commands", endpoint.name, problems, f"all {len(refused)} disabled commands refused ({', '.join(refused)})")


def _arguments(raw: redis.connection.AbstractConnection, command: str) -> list[str] | None:
    """Arguments of the right count for a harmless probe of `command` (None: the server does not know it)."""
    words = [w.lower() for w in command.split("|")]
    raw.send_command("COMMAND", "INFO", words[0])
    info = raw.read_response()
    if not info or info[0] is None:
        return None
    entry = info[0]
    arity = int(entry[1])
    subcommands = entry[9] if len(entry) > 9 else []
    if subcommands:
        # A container (CONFIG, ACL...): ACL judges subcommands, so probe the named one or the first one listed.
        wanted = "|".join(words) if len(words) > 1 else None
        sub = next((s for s in subcommands if _text(s[0]) == wanted), subcommands[0])
        words = _text(sub[0]).split("|")
        arity = int(sub[1])
    return words + [PROBE_ARG] * max(abs(arity) - len(words), 0)


def _text(value: object) -> str:
    return (value.decode() if isinstance(value, bytes) else str(value)).lower()


def _probe(raw: redis.connection.AbstractConnection, command: str) -> str:
    """`refused` (NOPERM / unknown command), `available`, or why it could not be probed safely."""
    try:
        args = _arguments(raw, command)
    except redis.ResponseError as error:
        return f"COMMAND INFO refused: {one_line(str(error))[:60]}"
    if args is None:
        return "refused"  # renamed away or not compiled in: unavailable
    raw.send_command("MULTI")
    try:
        raw.read_response()
    except redis.ResponseError as error:
        return "user may not MULTI, so no safe probe" if "permission" in str(error).lower() else \
            f"MULTI refused: {one_line(str(error))[:60]}"
    # ACL runs when a command is queued; DISCARD drops it, so even FLUSHALL is never executed.
    raw.send_command(*args)
    try:
        reply = raw.read_response()
        state = "available" if _text(reply) == "queued" else f"unexpected reply {reply!r}"
    except redis.ResponseError as error:
        state = _refusal(str(error))
    finally:
        raw.send_command("DISCARD")
        try:
            raw.read_response()
        except redis.ResponseError:
            pass
    if state == "no-multi":
        return _probe_outside_multi(raw, args)
    return state


def _refusal(message: str) -> str:
    text = message.lower()
    if "not allowed inside a transaction" in text:
        return "no-multi"
    # NOPERM (ACL), renamed away, or protected for everyone (enable-debug-command / enable-module-command no).
    if "no permissions" in text or "noperm" in text or "unknown command" in text or "command not allowed" in text:
        return "refused"
    return f"unexpected error {one_line(message)[:60]}"


# Commands that cannot be queued, each with an invalid argument the command rejects before doing anything.
_HARMLESS_OUTSIDE_MULTI = {"SHUTDOWN": ["SHUTDOWN", "redis-infra-probe-not-a-flag"]}


def _probe_outside_multi(raw: redis.connection.AbstractConnection, args: list[str]) -> str:
    probe = _HARMLESS_OUTSIDE_MULTI.get(args[0].upper())
    if probe is None:
        return "cannot be probed safely (not allowed in MULTI)"
    raw.send_command(*probe)
    try:
        raw.read_response()
    except redis.ResponseError as error:
        state = _refusal(str(error))
        return state if state == "refused" else "available"  # a syntax error means ACL let it through
    return "available"


# -- memory, persistence, version, latency --------------------------------------------------------------------

def memory(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """`maxmemory` and `maxmemory_policy` from INFO memory (never CONFIG GET: ElastiCache blocks it)."""
    info = conn.info("memory")
    expected = ctx.connection.expected
    actual = int(info.get("maxmemory", 0))
    policy = str(info.get("maxmemory_policy", ""))
    problems = []
    if actual == 0:
        wanted = f"expected {expected.maxmemory} ({_size(expected.maxmemory)})" if expected.maxmemory else "expected a limit"
        problems.append(f"maxmemory 0 (unlimited), {wanted}")
    elif expected.maxmemory is not None and actual != expected.maxmemory:
        problems.append(f"maxmemory {actual} ({_size(actual)}), expected {expected.maxmemory} ({_size(expected.maxmemory)})")
    if policy != expected.maxmemory_policy:
        problems.append(f"maxmemory_policy {policy}, expected {expected.maxmemory_policy}")
    used = int(info.get("used_memory", 0))
    share = f", {used / actual:.0%} used" if actual else ""
    return verdict("memory", endpoint.name, problems, f"maxmemory {_size(actual)}, {policy}{share}")


def persistence(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """AOF on/off as expected, RDB snapshots as expected where readable, last save / write statuses ok."""
    mode = ctx.connection.expected.persistence
    info = conn.info("persistence")
    problems = []
    want_aof, want_rdb = mode in ("aof", "both"), mode in ("rdb", "both")
    aof_on = int(info.get("aof_enabled", 0)) == 1
    if want_aof and not aof_on:
        problems.append(f"aof_enabled 0, expected AOF on (persistence {mode})")
    if aof_on and not want_aof:
        problems.append(f"aof_enabled 1, expected AOF off (persistence {mode})")
    for key in ("rdb_last_bgsave_status", "aof_last_bgrewrite_status", "aof_last_write_status"):
        if key in info and info[key] != "ok":
            problems.append(f"{key} {info[key]}")
    notes = [f"AOF {'on' if aof_on else 'off'}"]
    schedule = _save_schedule(conn)
    if schedule is not None:
        if want_rdb and not schedule:
            problems.append(f"save \"\" (RDB snapshots off), expected RDB on (persistence {mode})")
        if schedule and not want_rdb:
            problems.append(f"save \"{schedule}\" (RDB snapshots on), expected off (persistence {mode})")
        notes.append(f"save \"{schedule}\"")
    elif want_rdb:
        age = int(time.time()) - int(info.get("rdb_last_save_time", 0) or 0)
        notes.append(f"RDB schedule not readable without CONFIG; last save {age}s ago, "
                     f"{info.get('rdb_changes_since_last_save', '?')} changes since")
    notes.append(f"last bgsave {info.get('rdb_last_bgsave_status', '?')}")
    return verdict("persistence", endpoint.name, problems, ", ".join(notes))


def _save_schedule(conn: redis.Redis) -> str | None:
    """The RDB `save` rules when the user may read them (CONFIG is usually disabled, and blocked on ElastiCache)."""
    try:
        return str(conn.config_get("save").get("save", ""))
    except redis.RedisError:
        return None


def version(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """Engine and `major.minor` version as expected (a sandbox runs the installed binary: a mismatch only warns)."""
    info = conn.info("server")
    engine = "valkey" if ("valkey_version" in info or info.get("server_name") == "valkey") else "redis"
    running = str(info.get("valkey_version") or info.get("redis_version", ""))
    expected = ctx.connection.expected
    problems = []
    if engine != expected.engine:
        problems.append(f"engine {engine}, expected {expected.engine}")
    if ".".join(running.split(".")[:2]) != expected.version:
        problems.append(f"version {running}, expected {expected.version}")
    if problems and not any("engine" in p for p in problems) and ctx.connection.backend == "sandbox":
        return warned("version", endpoint.name, f"{problems[0]} (the sandbox runs the installed binary)")
    return verdict("version", endpoint.name, problems, f"{engine} {running}")


def latency(ctx: Context, endpoint: Endpoint, conn: redis.Redis) -> Result:
    """p50/p99 of a short PING sample; warns above the threshold."""
    samples = []
    for _ in range(ctx.settings.latency_samples):
        started = time.perf_counter()
        conn.ping()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))]
    detail = f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(samples)} PINGs"
    if p99 > ctx.settings.latency_warn_ms:
        return warned("latency", endpoint.name, f"{detail} (p99 over {ctx.settings.latency_warn_ms:g} ms)")
    return passed("latency", endpoint.name, detail)
