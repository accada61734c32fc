"""README generation: the config-key table from the pydantic schema (`python -m redisinfra.docs README.md`).

The table sits between `<!-- config-table:start -->` and `<!-- config-table:end -->`; a test fails when the README
is out of date, so every key stays documented where it is declared.
"""
from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .config import StackConfig

START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found and typing.get_origin(annotation) is not list:
            return found
    return None


def _type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = [_type_text(a) for a in args if a is not type(None)]
        return " \\| ".join(parts)
    if origin is list:
        inner = args[0] if args else Any
        model = _model_of(inner)
        return f"list of {model.__name__ if model else _type_text(inner)}"
    if isinstance(annotation, type):
        return {"int": "integer", "str": "string", "bool": "boolean"}.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _default_text(field: FieldInfo) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "(section)"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`[" + ", ".join(map(str, value)) + "]`" if value else "`[]`"
    return f"`{value}`"


def rows(model: type[BaseModel] = StackConfig, prefix: str = "redis:") -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, description) for every key, depth first."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        is_list = typing.get_origin(field.annotation) is list
        nested = _model_of(typing.get_args(field.annotation)[0] if is_list else field.annotation)
        if nested is not None and not is_list:
            yield key, "section", _default_text(field), field.description or ""
            yield from rows(nested, f"{key}.")
            continue
        yield key, _type_text(field.annotation), _default_text(field), field.description or ""
        if is_list and nested is not None:
            yield from rows(nested, f"{key}[].")


def table() -> str:
    """The Markdown table of every config key."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, kind, default, description in rows():
        escaped = description.replace("|", "\\|")
        lines.append(f"| `{key}` | {kind} | {default} | {escaped} |")
    return "\n".join(lines)


def update(readme: Path) -> bool:
    """Rewrite the table in a README; True when it changed."""
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    new = f"{head}{START}\n{table()}\n{END}{tail}"
    if new != text:
        readme.write_text(new)
    return new != text


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print(f"{target}: {'updated' if update(target) else 'up to date'}")
