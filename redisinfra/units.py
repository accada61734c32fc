"""Memory sizes as Redis writes them ("512mb", "1gb", "100k") and shares of node memory ("75%")."""
from __future__ import annotations

import re

# Redis's own convention: "k"/"m"/"g" are powers of 1000, "kb"/"mb"/"gb" powers of 1024.
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1024,
    "m": 1000**2, "mb": 1024**2,
    "g": 1000**3, "gb": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_size(value: int | str) -> int:
    """Bytes for an int or a size string like "1gb"; ValueError naming what is allowed otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a size like 512mb, 1gb or a number of bytes")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    match = _SIZE.match(str(value))
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"{value!r} is not a size; use e.g. 512mb, 1gb, 100k or a number of bytes")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_share(value: str) -> float | None:
    """The fraction for "75%" (0.75), None when the value is not a percentage."""
    if not isinstance(value, str):
        return None
    match = _SHARE.match(value)
    if not match:
        return None
    share = float(match.group(1)) / 100
    if not 0 < share <= 1:
        raise ValueError(f"{value!r}: a share of node memory must be above 0% and at most 100%")
    return share


def format_size(value: int) -> str:
    """The shortest exact Redis size string for a byte count (1073741824 -> "1gb")."""
    for unit in ("gb", "mb", "kb"):
        factor = _UNITS[unit]
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)
