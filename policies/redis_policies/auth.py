"""Policies `redis-auth-required` and `redis-secrets-not-exposed`."""
from __future__ import annotations

import re
from typing import Any, Iterator

from pulumi_policy import Severity

from . import targets as t
from .framework import Subject, resource_policy
from .redisconf import RedisConf, auth_finding
from .selfhosted import judged_by_configmap, processes, role, where
from .values import UNKNOWN, as_list, get, is_secret, text

# Env var names that carry a credential (the *_FILE variants point at a file and are fine).
_SECRET_NAME = re.compile(r"(PASS|PASSWORD|SECRET|TOKEN|AUTH|CREDENTIAL)", re.IGNORECASE)
# Command-line options that put a password on the process list.
_SECRET_FLAGS = re.compile(r"^(--requirepass|--masterauth|--pass|--password|--sentinel-pass|-a)$|^(--requirepass|--masterauth|--pass|--password)=")


def check_auth(subject: Subject) -> Iterator[str]:
    """ElastiCache AUTH token or RBAC user group; `requirepass`/ACL users on every node and Sentinel."""
    props = subject.props
    if subject.type == t.REPLICATION_GROUP:
        # pulumi-aws v7: `authTokenWo` is the write-only token (never stored in state), as good as `authToken`.
        tokens = [props.get("authToken"), props.get("authTokenWo")]
        groups = props.get("userGroupIds")
        if any(isinstance(token, str) and token for token in tokens):
            return
        if UNKNOWN in tokens or groups is UNKNOWN:
            return
        has_groups = any(g is UNKNOWN or (isinstance(g, str) and g) for g in as_list(groups))
        if not has_groups:
            yield ("neither authToken nor userGroupIds (nor the write-only authTokenWo): anyone inside the VPC can "
                   "read and write the cache")
        return
    if subject.type == t.SERVERLESS_CACHE:
        group = props.get("userGroupId")
        if group is not UNKNOWN and not (isinstance(group, str) and group):
            yield "no userGroupId: the serverless cache's default user needs no password; attach an RBAC user group"
        return
    if subject.type == t.CACHE_CLUSTER:
        if t.bare_cache_node(props):
            yield ("a redis/valkey cache cluster outside a replication group cannot require AUTH or an RBAC user "
                   "group: create an aws.elasticache.ReplicationGroup (num_cache_clusters=1 for a single node)")
        return
    for process in processes(subject):
        if judged_by_configmap(subject, process):
            continue
        finding = auth_finding(process.conf)
        if finding.state == "violated":
            yield f"{role(process)} in {where(subject, process)} accepts unauthenticated clients: " + "; ".join(finding.reasons)


AUTH = resource_policy(
    "redis-auth-required",
    "Every Redis endpoint requires authentication: an ElastiCache AUTH token or RBAC user group; "
    "`requirepass` or ACL users (default user off or password-protected) on every self-hosted node and Sentinel.",
    check_auth, severity=Severity.CRITICAL,
    remediation_steps=(
        "ElastiCache: set auth_token (as a Pulumi secret, with auth_token_update_strategy), auth_token_wo (with "
        "auth_token_wo_version) or user_group_ids; Serverless: user_group_id; a single redis/valkey node: a "
        "ReplicationGroup instead of an aws.elasticache.Cluster. "
        "Self-hosted: set `requirepass` or an `aclfile` whose `default` user is off or has a password; Sentinels need "
        "`requirepass` and `sentinel auth-pass <master> <password>` (redis-infra does all of this by default)."),
)


PRIVATE_KEY = "PRIVATE KEY-----"
_SECRET_OPTION_IN_TEXT = re.compile(r"--(requirepass|masterauth)[ =]+\S")


def _shell_words(argv: list[Any]) -> list[Any]:
    """Arguments, with `sh -c` scripts and CMD-SHELL strings split into words."""
    out: list[Any] = []
    for arg in argv:
        if isinstance(arg, str) and (" " in arg or "\n" in arg):
            for command in t._script_commands(arg):  # pylint: disable=protected-access
                out += command
        else:
            out.append(arg)
    return out


def _argv_exposures(argv: list[Any], where_: str) -> Iterator[str]:
    words = [a for a in argv if isinstance(a, str)]
    for i, word in enumerate(words):
        if word == "-a" and not any(re.search(r"(redis|valkey)-cli$", w) for w in words[:i]):
            continue  # `-a` is redis-cli's password flag only; `cp -a` is not
        if _SECRET_FLAGS.match(word) and not is_secret(word) and (i + 1 < len(words) or "=" in word):
            yield f"`{word.split('=', 1)[0]}` puts a password on the command line of {where_} (visible in ps / inspect)"
        if word.lower() in ("requirepass", "masterauth") and i + 1 < len(words) and "CONFIG" in (w.upper() for w in words):
            yield f"`CONFIG SET {word}` with a literal password in {where_}"


def _env_exposures(pairs: list[tuple[str, Any]], where_: str) -> Iterator[str]:
    for name, value in pairs:
        if isinstance(value, str) and _SECRET_OPTION_IN_TEXT.search(value):
            # REDIS_ARGS / VALKEY_EXTRA_FLAGS style: server options in a variable end up on the command line.
            yield f"environment variable {name} of {where_} passes a password option to the server"
            continue
        if not _SECRET_NAME.search(name) or name.upper().endswith("_FILE"):
            continue
        if value is UNKNOWN or value in (None, ""):
            continue  # unknown: may be a reference; empty: nothing exposed
        if str(value).lower() in ("yes", "no", "true", "false"):
            continue  # a switch such as ALLOW_EMPTY_PASSWORD, not a credential
        yield f"environment variable {name} of {where_} carries a credential (env is readable via inspect / /proc)"


def _what(conf: RedisConf) -> str:
    """The directives that expose a password, once each (`masterauth, requirepass`); never their values."""
    return ", ".join(dict.fromkeys(e.split(" in ")[0] for e in conf.secret_exposures()))


def check_secrets(subject: Subject) -> Iterator[str]:
    """Passwords only as Pulumi secrets, and never in commands, env, labels, ConfigMaps or user data."""
    props = subject.props
    if subject.type == t.REPLICATION_GROUP:
        token = props.get("authToken")
        if isinstance(token, str) and token and not is_secret(token):
            yield "authToken is not a Pulumi secret: it would be stored in plaintext in the state; wrap it with pulumi.Output.secret"
        return
    if subject.type == t.DOCKER_CONTAINER and (t.docker_is_redis(props) or t.redis_related_image(props.get("image"))):
        argv = as_list(props.get("entrypoints")) + as_list(props.get("command"))
        yield from _argv_exposures(_shell_words(argv), "the container")
        for test in as_list(get(props, "healthcheck", "tests")):
            if isinstance(test, str):
                yield from _argv_exposures(_shell_words([test]), "the health check")
        envs = []
        for entry in as_list(props.get("envs")):
            if isinstance(entry, str) and "=" in entry:
                name, _, value = entry.partition("=")
                envs.append((name, value))
        yield from _env_exposures(envs, "the container")
        for label in as_list(props.get("labels")):
            if isinstance(label, dict) and isinstance(label.get("label"), str) and _SECRET_NAME.search(label["label"]):
                if isinstance(label.get("value"), str) and label["value"]:
                    yield f"label {label['label']} of the container carries a credential"
        for upload in as_list(props.get("uploads")):
            if not isinstance(upload, dict):
                continue
            content = upload.get("content")
            if content is None:
                content = upload.get("contentBase64")
            if not isinstance(content, str) or is_secret(content):
                continue
            body = t._upload_text(upload)  # pylint: disable=protected-access
            if isinstance(body, str) and PRIVATE_KEY in body:
                yield f"uploaded file {upload.get('file')} is a private key but is not a Pulumi secret"
                continue
            conf = RedisConf()
            conf.add_text(body, str(upload.get("file")))
            found = _what(conf)
            if found:
                yield f"uploaded file {upload.get('file')} holds a password ({found}) but is not a Pulumi secret"
        return
    if subject.type in t.K8S_WORKLOADS:
        for container in t.redis_containers(t.pod_spec(props)):
            label = f"container {text(container.get('name'), '?')}"
            argv = as_list(container.get("command")) + as_list(container.get("args"))
            yield from _argv_exposures(argv, label)
            env = [(e.get("name"), e.get("value")) for e in as_list(container.get("env"))
                   if isinstance(e, dict) and isinstance(e.get("name"), str) and "valueFrom" not in e]
            yield from _env_exposures(env, label)
        return
    if subject.type == t.K8S_CONFIGMAP:
        data = props.get("data")
        for key, value in (data.items() if isinstance(data, dict) else []):
            if isinstance(value, str) and PRIVATE_KEY in value:
                yield f"ConfigMap data.{key} is a private key: ConfigMaps are not secret; use a Secret"
        for process in processes(subject):
            found = _what(process.conf)
            if found:
                yield f"ConfigMap {process.label} holds a password ({found}): ConfigMaps are not secret; use a Secret"
        return
    if subject.type in t.EC2_TYPES and t.ec2_is_redis(props, subject.type):
        body = t.user_data(props, subject.type)
        for process in processes(subject):
            found = _what(process.conf)
            if found:
                yield f"user data holds a password ({found}): user data is readable by anything on the instance and via the API"
        if isinstance(body, str) and PRIVATE_KEY in body:
            yield "user data holds a private key: fetch it at boot (SSM / Secrets Manager) instead"
        if isinstance(body, str):
            for line in body.splitlines():
                words = line.split()
                if any(_SECRET_FLAGS.match(w) for w in words):
                    yield from _argv_exposures(words, "a command in the user data")
        return


SECRETS = resource_policy(
    "redis-secrets-not-exposed",
    "Redis passwords and tokens are Pulumi secrets and never appear in process arguments, environment variables, "
    "labels, ConfigMaps or EC2 user data.",
    check_secrets, severity=Severity.CRITICAL,
    remediation_steps=(
        "Pass auth tokens with pulumi.Output.secret (or a generated random.RandomPassword). Put passwords in a config "
        "file delivered as a secret (Docker upload content marked secret, a Kubernetes Secret volume, SSM/Secrets "
        "Manager fetched at boot on EC2) and point Redis at it with `include`/`aclfile`; use *_FILE variables or "
        "secretKeyRef instead of literal env values."),
)
