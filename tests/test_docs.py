"""The README and the committed schema stay true to the code."""
from __future__ import annotations

import json
from pathlib import Path

from redisinfra.connection import json_schema
from redisinfra.docs import END, START, rows, table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_config_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"{START}\n{table()}\n{END}" in readme, "run `make docs`"
    keys = [key for key, *_ in rows()]
    assert "redis:sentinel.quorum" in keys and "redis:security.auth.users[].name" in keys
    assert all(description for *_, description in rows()), "every config key needs a description"


def test_committed_connection_schema_is_current() -> None:
    committed = json.loads((ROOT / "schema/connection.schema.json").read_text())
    assert committed == json_schema(), "run `make docs`"


def test_readme_quickstart() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make sandbox" in readme and "make test" in readme
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci
