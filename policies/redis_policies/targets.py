"""Which resources run Redis, and what configuration each of them gives a Redis or Sentinel process.

Works on plain inputs (see values.plain) with the provider's wire names (camelCase), exactly as the engine
sends them to the pack.
"""
from __future__ import annotations

import base64
import binascii
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from .redisconf import RedisConf
from .values import UNKNOWN, as_list, get, is_unknown, text

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
PARAMETER_GROUP = "aws:elasticache/parameterGroup:ParameterGroup"
SERVERLESS_CACHE = "aws:elasticache/serverlessCache:ServerlessCache"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_TYPES = frozenset({EC2_INSTANCE, EC2_LAUNCH_TEMPLATE})
DOCKER_CONTAINER = "docker:index/container:Container"
K8S_WORKLOADS = frozenset({"kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:Deployment"})
K8S_CONFIGMAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_SERVICE = "kubernetes:core/v1:Service"

# Image names (last path part, tag and digest removed) that run Redis-compatible servers.
_REDIS_IMAGE = re.compile(r"^(redis|valkey|redis-stack-server|redis-stack|redis-sentinel|redis-cluster|valkey-sentinel)$")
_CONF_HINT = re.compile(r"^\s*(sentinel monitor|maxmemory|tls-port|requirepass|appendonly|cluster-enabled|aclfile|replicaof)\b",
                        re.MULTILINE)


def image_name(image: Any) -> str | None:
    """`redis` for `docker.io/library/redis:7.2-alpine@sha256:...`; None when unknown or not a name."""
    if not isinstance(image, str) or image.startswith("sha256:"):
        return None
    path = image.split("@", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def image_tag(image: Any) -> str | None:
    """The tag of an image reference (`7.2-alpine`), None when absent or unknown."""
    if not isinstance(image, str):
        return None
    path = image.split("@", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def is_redis_image(image: Any) -> bool:
    """True for redis / valkey images (any registry, any tag)."""
    name = image_name(image)
    return bool(name and _REDIS_IMAGE.match(name))


def redis_related_image(image: Any) -> bool:
    """Images built around Redis (exporters, tools, operators): they may carry its credentials."""
    name = image_name(image)
    return bool(name and re.search(r"redis|valkey", name))


def engine_of_image(image: Any) -> str | None:
    """`redis` or `valkey` for a Redis-compatible image."""
    name = image_name(image) or ""
    return "valkey" if name.startswith("valkey") else ("redis" if name.startswith("redis") else None)


def bare_cache_node(props: dict[str, Any]) -> Optional[bool]:
    """An `aws.elasticache.Cluster` running redis/valkey outside a replication group (None when not known yet).

    Such a node has no AUTH token, no user group and no transit encryption of its own: only a replication group's
    members get them (a member names its group in `replicationGroupId` and is judged through the group).
    """
    group, engine = props.get("replicationGroupId"), props.get("engine")
    if group is UNKNOWN:
        return None
    if isinstance(group, str) and group:
        return False
    if engine is UNKNOWN:
        return None
    return isinstance(engine, str) and engine.lower() in ("redis", "valkey")


def looks_like_redis_conf(text: Any) -> bool:
    """True when text carries Redis/Sentinel directives."""
    return isinstance(text, str) and bool(_CONF_HINT.search(text))


@dataclass
class Process:
    """One Redis/Sentinel process as a resource describes it."""

    label: str
    conf: RedisConf
    memory_limit: Any = None  # bytes, None = no limit, UNKNOWN = not known during preview
    notes: list[str] = field(default_factory=list)


# --- Docker ------------------------------------------------------------------------------------

def docker_is_redis(props: dict[str, Any]) -> bool:
    """A docker.Container running a Redis-compatible image or server binary, or carrying a Redis config."""
    if is_redis_image(props.get("image")):
        return True
    argv = as_list(props.get("command")) + as_list(props.get("entrypoints"))
    if any(isinstance(a, str) and re.search(r"(redis|valkey)-(server|sentinel)$", a) for a in argv):
        return True
    return any(looks_like_redis_conf(u.get("content")) for u in _uploads(props))


def _uploads(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for u in as_list(props.get("uploads")) if isinstance(u, dict)]


def _upload_text(upload: dict[str, Any]) -> Any:
    content = upload.get("content")
    if content is not None:
        return content
    encoded = upload.get("contentBase64")
    if encoded is UNKNOWN:
        return UNKNOWN
    if isinstance(encoded, str):
        try:
            text = base64.b64decode(encoded).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return type(encoded)(text) if type(encoded) is not str else text  # keep the secret mark
    if upload.get("source") is not None:
        return UNKNOWN  # a host file: not visible to the policy
    return None


@dataclass
class Invocation:
    """What a container's command line runs: a Redis/Sentinel server (with its arguments) or something else."""

    server: bool
    args: list[Any] = field(default_factory=list)
    sentinel: bool = False
    # Commands a `sh -c` wrapper runs before the server (seeding Sentinel's state file from the uploaded seed, ...).
    prelude: list[list[str]] = field(default_factory=list)
    unknown: bool = False


_SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash", "ash", "/bin/ash")
_BINARY = re.compile(r"(^|/)(redis|valkey)-(server|sentinel)$")
_SEPARATORS = {";", "&&", "||", "|", "&", ";;"}


def _script_commands(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    try:
        for token in lexer:
            if token in _SEPARATORS:
                commands.append([])
            else:
                commands[-1].append(token)
    except ValueError:
        return [script.split()]
    return [c for c in commands if c]


def invocation(argv: list[Any]) -> Invocation:
    """Find the server in a command line: direct, via the image's entrypoint (options / a .conf first) or `sh -c`."""
    if any(a is UNKNOWN for a in argv):
        return Invocation(server=True, args=[a for a in argv], unknown=True)
    words = [a for a in argv if isinstance(a, str)]
    if not words:
        return Invocation(server=True)  # the image's own CMD: redis-server with built-in defaults
    if words[0] in _SHELLS and "-c" in words[1:3]:
        at = words.index("-c") + 1
        if at >= len(words):
            return Invocation(server=False)
        commands = _script_commands(words[at])
        for i, command in enumerate(commands):
            command = command[1:] if command[0] == "exec" else command
            if command and _BINARY.search(command[0]):
                return Invocation(True, command[1:], command[0].endswith("sentinel") or "--sentinel" in command,
                                  commands[:i])
        return Invocation(server=False)
    if "docker-entrypoint" in words[0]:
        words = words[1:]
        if not words:
            return Invocation(server=True)
    if _BINARY.search(words[0]):
        return Invocation(True, words[1:], words[0].endswith("sentinel") or "--sentinel" in words)
    if words[0].startswith("-") or words[0].endswith(".conf"):
        # The official images' entrypoint runs redis-server when the first argument is an option or a config file.
        return Invocation(True, words, "--sentinel" in words)
    return Invocation(server=False)


def docker_invocation(props: dict[str, Any]) -> Invocation:
    """The container's invocation from entrypoints + command."""
    entry, command = props.get("entrypoints"), props.get("command")
    if entry is UNKNOWN or command is UNKNOWN:
        return Invocation(server=True, unknown=True)
    return invocation(as_list(entry) + as_list(command))


def docker_process(props: dict[str, Any]) -> Optional[Process]:
    """The config a Redis container runs with: its command line plus the uploaded files that command reads."""
    conf = RedisConf()
    files: dict[str, Any] = {}
    for upload in _uploads(props):
        path = upload.get("file")
        if isinstance(path, str):
            files[path] = _upload_text(upload)
        else:
            conf.unknown = True
    run = docker_invocation(props)
    if not run.server:
        return None  # a one-shot job or tool in a Redis image (cluster join, backup): no server to judge
    conf.unknown = conf.unknown or run.unknown
    conf.sentinel = run.sentinel
    named = conf.add_command(run.args, "command")
    # `--include` / `--aclfile` on the command line name files just like the config file does.
    named += [d.args[0] for d in conf.directives if d.name in ("include", "aclfile") and d.args]
    # Sentinel runs from a state file the wrapper seeds from the uploaded file (and edits): judge what it starts with.
    files = _run_prelude(run.prelude, files)
    _follow(conf, named, files)
    limit = _docker_memory(props.get("memory"))
    return Process("container", conf, limit)


_SED_DELETE = re.compile(r"^/(.+)/d$")


def _run_prelude(commands: list[list[str]], files: dict[str, Any]) -> dict[str, Any]:
    """The files a server starts with after its wrapper's file commands, on a first start (no state file yet).

    Understood: `cp SRC DST`, `cat SRC > DST`, `echo TEXT >> DST` (or `>`), `sed -i -e '/RE/d' ... FILE`. Anything else
    leaves the files as they are; a file whose text is not known is never edited (it stays as uploaded)."""
    out = dict(files)

    def known(path: str) -> bool:
        return isinstance(out.get(path), str)

    for c in commands:
        if c[0] == "cp" and len(c) >= 3 and c[-2] in out:
            out[c[-1]] = out[c[-2]]
        elif c[0] == "cat" and len(c) == 4 and c[2] == ">" and c[1] in out:
            out[c[3]] = out[c[1]]
        elif c[0] == "echo" and len(c) >= 4 and c[-2] in (">", ">>"):
            line = " ".join(w for w in c[1:-2] if w != "-e") + "\n"
            if c[-2] == ">":
                out[c[-1]] = line
            elif known(c[-1]):
                body = out[c[-1]]
                out[c[-1]] = body + ("" if not body or body.endswith("\n") else "\n") + line
        elif c[0] == "sed" and "-i" in c and known(c[-1]):
            patterns = []
            for flag, value in zip(c, c[1:]):
                match = _SED_DELETE.match(value) if flag == "-e" else None
                if match:
                    try:
                        patterns.append(re.compile(match.group(1)))
                    except re.error:
                        patterns = []
                        break
            if patterns:
                out[c[-1]] = "".join(line for line in out[c[-1]].splitlines(keepends=True)
                                     if not any(p.search(line) for p in patterns))
    return out


def _follow(conf: RedisConf, paths: list[str], files: dict[str, Any]) -> None:
    """Read config files and, transitively, their `include` and `aclfile` targets."""
    seen: set[str] = set()
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = files.get(path, files.get(posixpath.normpath(path)))
        if path not in files:
            conf.external.append(path)
            continue
        before = len(conf.directives)
        conf.add_text(text, posixpath.basename(path))
        for d in conf.directives[before:]:
            if d.name in ("include", "aclfile") and d.args:
                queue.append(d.args[0])


def _docker_memory(memory: Any) -> Any:
    # pulumi-docker's `memory` is in MiB; 0 / absent = no limit.
    if memory is UNKNOWN:
        return UNKNOWN
    if isinstance(memory, (int, float)) and memory > 0:
        return int(memory) * 1024 * 1024
    return None


# --- Kubernetes ----------------------------------------------------------------------------------

def pod_spec(props: dict[str, Any]) -> Any:
    """spec.template.spec of a StatefulSet/Deployment (UNKNOWN or None when not visible)."""
    return get(props, "spec", "template", "spec")


def redis_containers(spec: Any) -> Iterator[dict[str, Any]]:
    """Containers (init containers included) running a Redis-compatible image or binary."""
    if not isinstance(spec, dict):
        return
    for key in ("containers", "initContainers"):
        for container in as_list(spec.get(key)):
            if not isinstance(container, dict):
                continue
            argv = as_list(container.get("command")) + as_list(container.get("args"))
            binary = any(isinstance(a, str) and re.search(r"(redis|valkey)-(server|sentinel)$", a) for a in argv)
            if is_redis_image(container.get("image")) or (key == "containers" and binary):
                yield container


def k8s_is_redis(props: dict[str, Any]) -> bool:
    """A StatefulSet/Deployment with at least one Redis container."""
    return any(True for _ in redis_containers(pod_spec(props)))


def k8s_process(container: dict[str, Any]) -> Optional[Process]:
    """The config a Redis container gets from its command line; files it names come from volumes (external)."""
    run = invocation(as_list(container.get("command")) + as_list(container.get("args")))
    if not run.server:
        return None
    conf = RedisConf(unknown=run.unknown, sentinel=run.sentinel)
    named = conf.add_command(run.args, "args")
    conf.external.extend(named)
    limit = memory_quantity(get(container, "resources", "limits", "memory"))
    return Process(text(container.get("name"), "container"), conf, limit)


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_QUANTITY_UNITS = {None: 1, "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
                   "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def memory_quantity(value: Any) -> Any:
    """A Kubernetes memory quantity (`512Mi`) in bytes; None when absent, UNKNOWN when unknown."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, (int, float)):
        return int(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if not match:
        return None
    return int(float(match.group(1)) * _QUANTITY_UNITS[match.group(2)])


def config_files(type_: str, props: dict[str, Any]) -> Any:
    """{key: text} of a ConfigMap (`data`) or Secret (`stringData`, base64 `data`); UNKNOWN when not known."""
    if type_ == K8S_CONFIGMAP:
        return props.get("data")
    out: dict[str, Any] = {}
    data, string_data = props.get("data"), props.get("stringData")
    if data is UNKNOWN or string_data is UNKNOWN:
        return UNKNOWN
    if isinstance(data, dict):
        for key, value in data.items():
            out[key] = _b64(value)
    if isinstance(string_data, dict):
        out.update(string_data)
    return out


def _b64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def configmap_processes(props: dict[str, Any], type_: str = K8S_CONFIGMAP) -> list[Process]:
    """One process per ConfigMap/Secret entry that is a Redis or Sentinel config file."""
    out = []
    data = config_files(type_, props)
    if not isinstance(data, dict):
        return out
    for key, text in data.items():
        if text is UNKNOWN:
            continue
        if not looks_like_redis_conf(text):
            continue
        conf = RedisConf()
        conf.add_text(text, str(key))
        # include / aclfile point at other mounts (a Secret, usually): not visible from here.
        for d in conf.directives:
            if d.name in ("include", "aclfile") and d.args and d.args[0].rsplit("/", 1)[-1] not in data:
                conf.external.append(d.args[0])
        out.append(Process(f"data.{key}", conf, None))
    return out


def configmap_is_redis(props: dict[str, Any]) -> bool:
    """A ConfigMap carrying a Redis or Sentinel config file."""
    data = props.get("data")
    return isinstance(data, dict) and any(looks_like_redis_conf(v) for v in data.values())


# --- EC2 -------------------------------------------------------------------------------------------

def user_data(props: dict[str, Any], type_: str = EC2_INSTANCE) -> Any:
    """The instance's / launch template's user data as text (base64 decoded); UNKNOWN when not known yet."""
    text = props.get("userData")
    if type_ == EC2_LAUNCH_TEMPLATE and isinstance(text, str):
        decoded = _b64(text)  # a launch template carries it base64-encoded
        return decoded if isinstance(decoded, str) else text
    if text is not None:
        return text
    encoded = props.get("userDataBase64")
    if encoded is UNKNOWN:
        return UNKNOWN
    if isinstance(encoded, str):
        try:
            return base64.b64decode(encoded).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def ec2_is_redis(props: dict[str, Any], type_: str = EC2_INSTANCE) -> bool:
    """An instance or launch template whose user data configures Redis/Valkey, or tagged as one."""
    text = user_data(props, type_)
    if isinstance(text, str) and re.search(r"redis|valkey", text, re.IGNORECASE):
        return True
    tags = props.get("tags")
    if isinstance(tags, dict):
        return any(isinstance(v, str) and re.search(r"redis|valkey", v, re.IGNORECASE) for v in tags.values())
    return False


def ec2_process(props: dict[str, Any], type_: str = EC2_INSTANCE) -> Process:
    """The directives the user data writes (heredocs, cloud-init write_files, server command lines)."""
    conf = RedisConf()
    text = user_data(props, type_)
    conf.add_text(text, "user data", free_text=True)
    for d in conf.directives:
        if d.name in ("include", "aclfile") and d.args:
            conf.external.append(d.args[0])  # fetched at boot (e.g. from SSM): not in the user data
    memory = instance_memory(props.get("instanceType"))
    return Process("instance", conf, memory)


# GiB of memory of common instance families' sizes (the headroom check skips types it does not know).
_SIZE_GIB = {"medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192,
             "16xlarge": 256}
_FAMILY_FACTOR = {"r": 2.0, "m": 1.0, "c": 0.5, "t": 1.0, "x": 4.0}


def instance_memory(instance_type: Any) -> Any:
    """Memory in bytes of general (m*), memory (r*, x*), compute (c*) and burstable (t*) types."""
    if instance_type is UNKNOWN:
        return UNKNOWN
    if not isinstance(instance_type, str) or "." not in instance_type:
        return None
    family, size = instance_type.split(".", 1)
    factor = _FAMILY_FACTOR.get(family[:1])
    base = _SIZE_GIB.get(size)
    if factor is None or base is None:
        return None
    return int(base * factor * 1024**3)  # m-family: large = 8 GiB, r-family twice that


def unknown_or(value: Any, fallback: Any) -> Any:
    """`fallback` unless the value is (or contains) an unknown."""
    return UNKNOWN if is_unknown(value) else fallback
