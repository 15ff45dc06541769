"""The dependency rules of DESIGN.md section 2, checked by parsing the source."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add((str(path.relative_to(ROOT)), node.module))
    return found


def test_the_domain_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"commands"}
    offenders = {
        (path, module)
        for path, module in imported_modules("commands/domain")
        if module.split(".")[0] not in allowed
        or (module.startswith("commands") and not module.startswith("commands.domain"))
    }
    assert offenders == set()


@pytest.mark.parametrize("forbidden", ["commands", "projections"])
def test_the_event_store_imports_neither_side(forbidden):
    assert {(p, m) for p, m in imported_modules("eventstore") if m.split(".")[0] == forbidden} == set()


def test_the_read_side_never_reaches_the_command_services():
    forbidden = {"commands.services", "commands.api", "commands.idempotency", "commands.selectors"}
    assert {(p, m) for p, m in imported_modules("projections") if m in forbidden} == set()


def test_no_module_is_a_dumping_ground():
    names = {
        path.name
        for package in ("config", "eventstore", "commands", "projections")
        for path in (ROOT / package).rglob("*.py")
    }
    assert names.isdisjoint({"utils.py", "helpers.py", "common.py", "misc.py"})
