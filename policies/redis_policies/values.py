"""Resource inputs as plain Python: unknown preview values become UNKNOWN, secrets stay recognisable.

pulumi_policy hands policies proxies that raise on unknown values and (in Analyze) strips the secret
marker the engine sends (the engine marshals with KeepSecrets and KeepUnknowns). A policy that must tell
"not set" from "not known yet", or a secret from plain text, needs both, so this module provides them.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import pulumi_policy.policy as _engine_side
from pulumi_policy import deserialize as _deserialize
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
)

_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})


class _Unknown:
    """A value the engine cannot know during preview (computed from another resource's outputs)."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("an unknown preview value has no truth value; test `is UNKNOWN` first")


UNKNOWN = _Unknown()


class SecretText(str):
    """A string the engine delivered as a Pulumi secret (its repr never shows the value)."""

    def __repr__(self) -> str:
        return "[secret]"


def _mark_secret(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, SecretText) and value not in _UNKNOWN_SENTINELS:
        return SecretText(value)
    if isinstance(value, list):
        return [_mark_secret(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_secret(v) for k, v in value.items()}
    return value


def _keep_secret_marks(prop: Any) -> Any:
    if isinstance(prop, list):
        return [_keep_secret_marks(v) for v in prop]
    if isinstance(prop, dict):
        if prop.get(_deserialize.SPECIAL_SIG_KEY) == _deserialize.SPECIAL_SECRET_SIG:
            return _mark_secret(_keep_secret_marks(prop.get("value")))
        if _deserialize.SPECIAL_SIG_KEY in prop:  # assets and archives: the library's own decoding
            return _deserialize._deserialize_property(prop)  # pylint: disable=protected-access
        return {k: _keep_secret_marks(v) for k, v in prop.items()}
    return prop


_original_deserialize = _deserialize.deserialize_properties


def deserialize_keeping_secrets(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """Like pulumi_policy's deserializer, but Analyze keeps secret strings as SecretText (a str, so nothing else changes)."""
    if proxy_secrets:  # Remediate: the library's own secret-preserving proxies, untouched
        return _original_deserialize(props, True)
    return {k: _keep_secret_marks(v) for k, v in props.items()}


# Installed on import (the pack imports this module before serving): Analyze and AnalyzeStack look the name up here.
_engine_side.deserialize_properties = deserialize_keeping_secrets


def plain(value: Any) -> Any:
    """Unwrap pulumi_policy's proxies recursively; unknown sentinels become UNKNOWN."""
    target = _target(value)
    if isinstance(target, Mapping):
        return {str(k): plain(v) for k, v in target.items()}
    if isinstance(target, (list, tuple)):
        return [plain(v) for v in target]
    if hasattr(target, "value") and type(target).__name__ == "Secret":  # remediation proxies keep Secret wrappers
        return _mark_secret(plain(target.value))
    if isinstance(target, str) and target in _UNKNOWN_SENTINELS:
        return UNKNOWN
    return target


def _target(value: Any) -> Any:
    name = type(value).__name__
    if name in ("_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy"):
        return value["__target"]
    return value


def is_unknown(value: Any) -> bool:
    """True when the value (or anything inside it) is not known during preview."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def is_secret(value: Any) -> bool:
    """True when a string value arrived as a Pulumi secret (unknown counts as not-plain: it cannot be judged)."""
    return isinstance(value, SecretText)


def get(props: Mapping[str, Any], *path: str | int, default: Any = None) -> Any:
    """props[path...] on plain data; `default` when missing, UNKNOWN when any step is unknown."""
    current: Any = props
    for step in path:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """A list input (None -> []); UNKNOWN passes through as [UNKNOWN] so callers see it."""
    if value is None:
        return []
    if value is UNKNOWN:
        return [UNKNOWN]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def strings(values: Iterable[Any]) -> list[str]:
    """The known strings of a list (unknown entries dropped)."""
    return [v for v in values if isinstance(v, str)]


def text(value: Any, default: str) -> str:
    """A string input, or `default` when absent, empty, unknown or not a string (for labels in messages)."""
    return value if isinstance(value, str) and value else default


def truthy(value: Any) -> bool | None:
    """A boolean input as True/False, None when unknown; strings "true"/"false" as providers accept them."""
    if value is UNKNOWN:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)
