"""The SQL we run lives in sql/ and all of it runs: every file is loaded by some code, numbered
uniquely in its folder, and every placeholder it uses is one the code maps."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from consolidation.policies.access_spec import load_spec

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import policy_identifiers

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
FILES = sorted(str(path.relative_to(SQL)) for path in SQL.rglob("*.sql"))


def code_strings() -> tuple[set[str], set[str], set[str]]:
    """Every string constant of the code, the literal parts of its f-strings, and the folders
    it loads whole (sqlfiles.files("folder"))."""
    constants: set[str] = set()
    fragments: set[str] = set()
    whole: set[str] = set()
    for package in ("consolidation", "policies", "storage_migration"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    fragments |= {part.value for part in node.values if isinstance(part, ast.Constant)}
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    constants.add(node.value)
                elif (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) == "files"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    whole.add(node.args[0].value)
    return constants, fragments, whole


def loaded(relative: str, constants: set[str], fragments: set[str], whole: set[str]) -> bool:
    folder, _, name = relative.rpartition("/")
    stem = name.removesuffix(".sql")
    if relative in constants or folder in whole:
        return True
    # Built as f"<folder>/{name}.sql" from a name the code (or the access spec) spells out.
    built_here = any(fragment.rstrip("/").endswith(folder) for fragment in fragments) or any(
        constant.endswith(folder) for constant in constants
    )
    return built_here and (stem in constants or any(stem == c.split("/")[-1] for c in constants))


def test_every_sql_file_is_loaded_by_some_code() -> None:
    constants, fragments, whole = code_strings()
    # The probe files are named by the access spec's operation ids.
    constants |= {operation.probe_name for operation in load_spec().operations}
    unused = [relative for relative in FILES if not loaded(relative, constants, fragments, whole)]
    assert unused == []


def test_numeric_prefixes_are_unique_in_each_folder() -> None:
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for relative in FILES:
        folder, _, name = relative.rpartition("/")
        number = re.match(r"(\d+)_", name)
        if number:
            key = (folder, number.group(1))
            if key in seen:
                clashes.append(f"{seen[key]} and {relative}")
            seen[key] = relative
    assert clashes == []


@pytest.mark.parametrize("relative", [f for f in FILES if ":" in (SQL / f).read_text(encoding="utf-8")])
def test_every_identifier_placeholder_is_one_the_code_maps(relative: str) -> None:
    text = (SQL / relative).read_text(encoding="utf-8")
    used = set(re.findall(r'''(?<!["\w]):"([A-Za-z_][A-Za-z0-9_.]*)"''', text))
    mapped = set(policy_identifiers(Config()))
    # Names a caller adds for one file (a backup's schema, a rewrite's target, a source...).
    per_call = {
        "backup", "manifest", "copy", "source", "source.id", "source.sender", "source.created_at", "alias",
        "target", "target.id", "target.column", "table", "column", "constraint", "index", "referenced",
        "referenced_column", "key", "tool.phase_records_qualified",
        "legacy_read", "legacy_upload", "legacy_replace", "legacy_remove", "publication",
    }
    unknown = sorted(used - mapped - per_call)
    assert unknown == [], f"{relative} uses {unknown}"
    assert sqlfiles.load(relative)
