"""There is one way to decide: no router or service calls the engine, checks a role, a
purpose or a nursery itself; each declares its access and the access layer decides."""

import ast
from pathlib import Path

import pytest

from app.decisions.access import DECLARED
from app.main import create_app
from app.policy.rules import OPERATION_PURPOSES

APP = Path(__file__).resolve().parents[2] / "app"

# The low-level guard asks the engine; the facts layer loads what a decision needs
# (enrolments only for a nursery practitioner); the policy is the engine; auth turns a
# token into a caller; the OpenAPI document (and with it the policy endpoint) publishes
# the purposes each operation serves.
DECIDERS = {"decisions/guard.py"}
ENGINE_READERS = DECIDERS | {"decisions/document.py"}
ROLE_AWARE = {"decisions/facts.py", "decisions/guard.py", "cli.py"}
EXEMPT_PACKAGES = ("policy/", "auth/", "demo/")


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        name = path.relative_to(APP).as_posix()
        if name.startswith(EXEMPT_PACKAGES):
            continue
        found.append((name, ast.parse(path.read_text())))
    return found


MODULES = _modules()


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[name for name, _ in MODULES])
def test_only_the_guard_calls_the_engine(name: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "decide":
            value = node.value
            if isinstance(value, ast.Name) and value.id == "engine":
                assert name in DECIDERS, f"{name} calls engine.decide"
        if isinstance(node, ast.ImportFrom) and node.module == "app.policy":
            imported = {alias.name for alias in node.names}
            if "engine" in imported:
                assert name in ENGINE_READERS, f"{name} imports the engine"
        if isinstance(node, ast.ImportFrom) and node.module == "app.policy.engine":
            pytest.fail(f"{name} imports from the engine")


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[name for name, _ in MODULES])
def test_no_router_or_service_checks_a_role_or_a_nursery(name: str, tree: ast.Module) -> None:
    if name in ROLE_AWARE:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not (node.value.id == "Role" and node.attr.isupper()), (
                f"{name}: Role.{node.attr}"
            )
        if isinstance(node, ast.Compare):
            names = [n for n in ast.walk(node) if isinstance(n, ast.Attribute)]
            for attribute in names:
                assert attribute.attr not in {"role", "nursery_id"}, (
                    f"{name} compares a caller's {attribute.attr}"
                )


ROUTERS = [(name, tree) for name, tree in MODULES if name.endswith("router.py")]


@pytest.mark.parametrize(("name", "tree"), ROUTERS, ids=[name for name, _ in ROUTERS])
def test_no_router_names_a_purpose(name: str, tree: ast.Module) -> None:
    """Which purposes an operation serves is the rule tables' (OPERATION_PURPOSES)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not (node.value.id == "Purpose" and node.attr.isupper()), (
                f"{name}: Purpose.{node.attr}"
            )


def test_every_operation_touching_personal_data_declares_its_access() -> None:
    app = create_app()
    operations = {
        operation["operationId"]
        for item in app.openapi()["paths"].values()
        for operation in item.values()
        if any(p["name"] == "X-Purpose" for p in operation.get("parameters", []))
    }
    assert operations
    assert operations <= set(DECLARED)


def test_every_narrowed_operation_names_an_operation_that_exists() -> None:
    assert set(OPERATION_PURPOSES) <= set(DECLARED)
