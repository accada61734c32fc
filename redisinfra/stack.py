"""Loading a stack's `redis:` config from a Pulumi.<stack>.yaml file or the Pulumi runtime, with one-line errors."""
from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from .config import NAMESPACE, RuleError, StackConfig, model_at


class ConfigError(Exception):
    """A bad stack file or value: `str()` is one line naming the key and what is allowed."""


def _key_text(loc: tuple[Any, ...]) -> str:
    out = f"{NAMESPACE}:"
    first = True
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("" if first else ".") + str(part)
        first = False
    return out


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model = model_at(loc)
    return sorted(model.model_fields) if model else []


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def explain(error: ValidationError, source: str) -> ConfigError:
    """Turn the first pydantic error into one line: `<source>: redis:<key>: <what is wrong> (<allowed>)`."""
    # Unknown keys first: a typo usually also makes a required key look missing.
    first = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # Unions add the member type to the path (e.g. "int", "str"); drop those tags.
    loc = tuple(p for p in loc if p not in ("int", "str", "float", "list[str]", "bool"))
    kind = first["type"]
    inner = (first.get("ctx") or {}).get("error")
    if isinstance(inner, RuleError):
        loc = loc + tuple(inner.path.split("."))
        message = str(inner)
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        message = f"unknown key; {hint}allowed: {', '.join(allowed)}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        message = f"{first['input']!r} is not allowed (allowed: {first['ctx']['expected']})"
    else:
        message = first["msg"].removeprefix("Value error, ")
        if kind not in ("value_error", "assertion_error") and "input" in first and not isinstance(first["input"], (dict, list)):
            message = f"{first['input']!r}: {message}"
    return ConfigError(_one_line(f"{source}: {_key_text(loc)}: {message}"))


def parse_config(values: Mapping[str, Any], source: str = "stack config") -> StackConfig:
    """Validate a mapping of `redis:` keys (without the namespace) into a StackConfig, or raise ConfigError."""
    try:
        return StackConfig.model_validate(dict(values))
    except ValidationError as error:
        raise explain(error, source) from None
    except RuleError as error:  # raised outside pydantic's wrapping (e.g. by a section's helper)
        raise ConfigError(_one_line(f"{source}: {NAMESPACE}:{error.path}: {error}")) from None
    except ValueError as error:
        raise ConfigError(_one_line(f"{source}: {error}")) from None


def namespace_values(config: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The `redis:` keys of a Pulumi config mapping, namespace stripped; refuses secure values we cannot decrypt."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        namespace, sep, name = str(key).partition(":")
        if not sep or namespace != NAMESPACE:
            continue
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise ConfigError(f"{source}: {key}: secure values are not read here; passwords are generated (remove the key)")
        values[name] = value
    return values


def load_stack_file(path: str | os.PathLike[str]) -> StackConfig:
    """Read and validate `Pulumi.<stack>.yaml`; ConfigError (one line) on any problem."""
    path = Path(path)
    source = path.name
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such stack file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {_one_line(str(error))}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{source}:{where}: not valid YAML: {_one_line(getattr(error, 'problem', None) or error)}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(f"{source}: expected a mapping with a 'config:' section holding {NAMESPACE}: keys")
    values = namespace_values(document["config"], source)
    if not values:
        raise ConfigError(f"{source}: no {NAMESPACE}: keys under config: (at least {NAMESPACE}:backend and {NAMESPACE}:topology)")
    return parse_config(values, source)


def stack_file(stack: str, root: str | os.PathLike[str] = ".") -> Path:
    """The stack file for a stack name, or the path itself when given a file."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return candidate
    return Path(root) / f"Pulumi.{stack}.yaml"


def _runtime_value(raw: str) -> Any:
    # Pulumi hands objects and lists over as JSON text and scalars as plain text; pydantic coerces the scalars.
    text = raw.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def load_from_pulumi() -> StackConfig:
    """Validate the running Pulumi program's `redis:` config (all keys, so unknown ones are caught)."""
    from pulumi.runtime.config import get_config_env  # imported here: the core must not need the Pulumi engine

    import pulumi

    values = namespace_values({k: _runtime_value(v) for k, v in get_config_env().items()},
                              f"stack {pulumi.get_stack()}")
    return parse_config(values, f"stack {pulumi.get_stack()}")
