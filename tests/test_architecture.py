"""The dependency rules of docs/architecture.md ("Packages and their imports"), checked by parsing the source.

config       wiring (settings, URLs, the launcher): may import everything; nothing imports it
web          HTML pages and forms: composes both sides through their public modules
commands     the domain, the services, the command API
projections  read models, projectors, the runner, the query API
gateway      what both APIs share at the edge: auth, tokens, problem+json, limits, parsing, routing, Redis
eventstore   the event store
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "web", "commands", "projections", "gateway", "eventstore")


def imports_of(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every absolute import in the package, lazy imports inside functions too."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {(str(path.relative_to(ROOT)), node.module)}
                # `from commands import services` imports commands.services
                found |= {(str(path.relative_to(ROOT)), f"{node.module}.{alias.name}") for alias in node.names}
    return found


def reaching(package: str, allowed: tuple[str, ...], *, outside: tuple[str, ...] = PACKAGES) -> set[tuple[str, str]]:
    """The imports from `package` into the project's other packages that are not under an `allowed` prefix."""
    return {
        (path, module)
        for path, module in imports_of(package)
        if module.split(".")[0] in outside
        and module.split(".")[0] != package
        and not any(module == prefix or module.startswith(prefix + ".") for prefix in allowed)
        and not _is_package_itself(module)
    }


def _is_package_itself(module: str) -> bool:
    """`from commands import domain` names the package `commands` too; only the submodule counts."""
    return module in PACKAGES


def test_the_domain_imports_only_the_standard_library():
    offenders = {
        (path, module)
        for path, module in imports_of("commands/domain")
        if module.split(".")[0] not in set(sys.stdlib_module_names) | {"commands"}
        or (module.startswith("commands") and not module.startswith("commands.domain"))
    }
    assert offenders == set()


def test_the_event_store_imports_no_other_package():
    assert reaching("eventstore", allowed=()) == set()


def test_the_read_side_imports_nothing_of_the_commands_but_the_domain():
    assert reaching("projections", allowed=("commands.domain", "eventstore", "gateway")) == set()


def test_the_command_side_reaches_the_read_side_only_to_wake_it():
    allowed = ("eventstore", "gateway", "projections.jobs")
    assert reaching("commands", allowed=allowed) == set()


def test_the_gateway_knows_only_the_domain_and_the_store():
    assert reaching("gateway", allowed=("commands.domain", "eventstore")) == set()


def test_the_pages_use_no_api_module_and_no_store_internals():
    allowed = (
        "commands.domain",
        "commands.calls",
        "commands.dispatch",
        "commands.services",
        "commands.idempotency",
        "commands.erasure",
        "projections.selectors",
        "projections.status",
        "projections.checkpoints",
        "projections.jobs",
        "projections.operations",
        "projections.registry",
        "projections.models",
        "eventstore.store",
        "eventstore.records",
        "gateway",
    )
    assert reaching("web", allowed=allowed) == set()


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "config"])
def test_nothing_imports_the_wiring(package):
    assert {(path, module) for path, module in imports_of(package) if module.split(".")[0] == "config"} == set()


def test_the_rules_see_a_forbidden_import(tmp_path, monkeypatch):
    """The checker itself: a read-side module importing a command service is reported."""
    package = tmp_path / "projections"
    package.mkdir()
    (package / "leak.py").write_text("from commands import services\nfrom commands.domain import accounts\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert reaching("projections", allowed=("commands.domain",)) == {("projections/leak.py", "commands.services")}


def test_no_module_is_a_dumping_ground():
    names = {path.name for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    assert names.isdisjoint({"utils.py", "helpers.py", "common.py", "misc.py"})
