"""Policy `redis-tls-in-transit`: every Redis link is TLS (ElastiCache `required`, self-hosted TLS only)."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from pulumi_policy import Severity

from . import targets as t
from .framework import Subject, resource_policy
from .redisconf import tls_finding
from .selfhosted import judged_by_configmap, processes, role, where
from .values import UNKNOWN, truthy


def check(subject: Subject) -> Iterator[str]:
    """Transit encryption on ElastiCache; `port 0` + `tls-port` + TLS replication / cluster bus self-hosted."""
    props = subject.props
    if subject.type == t.REPLICATION_GROUP:
        enabled = props.get("transitEncryptionEnabled")
        if enabled is UNKNOWN:
            return
        if not truthy(enabled):
            yield "transitEncryptionEnabled is off: clients, replicas and AUTH travel in plaintext"
            return
        mode = props.get("transitEncryptionMode")
        if isinstance(mode, str) and mode.lower() != "required":
            yield f"transitEncryptionMode is {mode!r}: plaintext connections are still accepted; set 'required'"
        return
    if subject.type == t.CACHE_CLUSTER:
        if t.bare_cache_node(props):
            yield ("a redis/valkey cache cluster outside a replication group: redis-infra cannot rely on transit "
                   "encryption (or AUTH) on a bare node; create an aws.elasticache.ReplicationGroup with "
                   "transit_encryption_enabled=True instead")
        return
    # ServerlessCache: AWS always requires TLS; nothing to judge.
    for process in processes(subject):
        if judged_by_configmap(subject, process):
            continue
        finding = tls_finding(process.conf)
        if finding.state == "violated":
            yield f"{role(process)} in {where(subject, process)} is not TLS-only: " + "; ".join(finding.reasons)


def remedy(subject: Subject) -> Optional[dict[str, Any]]:
    """Turn transit encryption on (ElastiCache only; a config file is not rewritten).

    A deliberate `preferred` mode is kept: it is the first step of AWS's documented migration of a running group
    (`preferred` until every client speaks TLS, then `required`), and skipping it cuts off plaintext clients.
    """
    if subject.type != t.REPLICATION_GROUP:
        return None
    if truthy(subject.props.get("transitEncryptionEnabled")) is not False:
        return None  # on (only the mode is reported, never promoted) or unknown
    mode = subject.props.get("transitEncryptionMode")
    if mode is UNKNOWN or (isinstance(mode, str) and mode.lower() == "preferred"):
        return {"transitEncryptionEnabled": True}
    return {"transitEncryptionEnabled": True, "transitEncryptionMode": "required"}


POLICY = resource_policy(
    "redis-tls-in-transit",
    "Redis traffic is encrypted in transit: ElastiCache transit encryption in 'required' mode; self-hosted nodes "
    "and Sentinels serve TLS only (`port 0`, `tls-port`) with TLS replication and a TLS cluster bus.",
    check, remedy=remedy, severity=Severity.CRITICAL,
    remediation_steps=(
        "ElastiCache: set transit_encryption_enabled=True and transit_encryption_mode='required' (existing groups: "
        "'preferred' first, then 'required', in two applies; the remediation turns encryption on but never promotes "
        "'preferred' to 'required'). Self-hosted: set `port 0`, `tls-port <port>`, "
        "`tls-cert-file`/`tls-key-file`/`tls-ca-cert-file`, `tls-replication yes` and, in a cluster, `tls-cluster yes` "
        "(redis-infra: security.tls.enabled: true)."),
)
