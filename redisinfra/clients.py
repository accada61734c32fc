"""redis-py clients built from the connection contract: TLS verified against the contract's CA and the host name.

Used by the sandbox (health waits) and by `checks/`. Every client has connect and socket timeouts, so an
unreachable node fails fast instead of hanging.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .connection import Connection, Endpoint

DEFAULT_TIMEOUT = 3.0
_pem_dir: str | None = None


def _pem_file(name: str, text: str) -> str:
    """redis-py reads client certificates from files only: keep them in one private temp dir, removed at exit."""
    global _pem_dir
    if _pem_dir is None:
        _pem_dir = tempfile.mkdtemp(prefix="redis-infra-pem-")
        atexit.register(shutil.rmtree, _pem_dir, True)
    path = os.path.join(_pem_dir, f"{abs(hash(text))}-{name}")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    return path


def tls_kwargs(connection: Connection, *, ca_pem: str | None = None) -> dict[str, Any]:
    """Keyword arguments for redis-py's TLS (empty when the deployment is plaintext)."""
    tls = connection.tls
    if not tls.enabled:
        return {}
    kwargs: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": "required", "ssl_check_hostname": tls.check_hostname}
    pem = ca_pem if ca_pem is not None else tls.ca_pem
    if tls.trust == "ca" or ca_pem is not None:
        kwargs["ssl_ca_data"] = pem
    if tls.client_cert_pem and tls.client_key_pem:
        kwargs["ssl_certfile"] = _pem_file("client.crt", tls.client_cert_pem)
        kwargs["ssl_keyfile"] = _pem_file("client.key", tls.client_key_pem.get_secret_value())
    return kwargs


def auth_kwargs(connection: Connection, endpoint: Endpoint) -> dict[str, Any]:
    """Credentials for one endpoint: Sentinels have their own password."""
    creds = connection.credentials
    if endpoint.role == "sentinel":
        password = creds.sentinel_password.get_secret_value() if creds.sentinel_password else None
        return {"password": password}
    return {"username": creds.username, "password": creds.password.get_secret_value()}


def client(connection: Connection, endpoint: Endpoint, *, timeout: float = DEFAULT_TIMEOUT,
           authenticated: bool = True, **overrides: Any) -> redis.Redis:
    """A single-node client for an endpoint (no cluster redirections: checks look at each node itself)."""
    kwargs: dict[str, Any] = {
        "host": endpoint.host, "port": endpoint.port, "socket_timeout": timeout,
        "socket_connect_timeout": timeout, "retry_on_timeout": False, "decode_responses": True,
        "retry": Retry(NoBackoff(), 0),
        "protocol": 2,
    }
    kwargs.update(tls_kwargs(connection))
    if authenticated:
        kwargs.update(auth_kwargs(connection, endpoint))
    kwargs.update(overrides)
    return redis.Redis(**kwargs)
