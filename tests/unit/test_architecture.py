"""The layering rules of the design card, checked on the source: nothing in dashboard/ imports
paho, nothing in feeds/ imports Dash, and dashboard/casework/ does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, banned: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        f: sorted(n for n in names if n.split(".")[0] in banned or n in banned)
        for f, names in imports(package).items()
        if any(n.split(".")[0] in banned or n in banned for n in names)
    }


def test_dashboard_never_imports_paho_nor_feeds_statically():
    # dashboard/cli.py reaches feeds commands by importlib on demand, never by an import line.
    assert offenders("dashboard", ("paho", "feeds")) == {}


def test_feeds_never_imports_dash():
    assert offenders("feeds", ("dash", "dash_leaflet", "plotly", "flask", "layouts")) == {}


def test_casework_is_pure():
    io = ("os", "io", "pathlib", "socket", "redis", "sqlalchemy", "requests", "urllib", "subprocess", "time", "json", "tomllib")
    assert offenders("dashboard/casework", io) == {}
    for path in (ROOT / "dashboard" / "casework").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"open", "print", "input"}, f"{path.name} does I/O: {calls & {'open', 'print', 'input'}}"


def _outside_store() -> list[Path]:
    return [p for package in ("dashboard", "feeds", "layouts") for p in (ROOT / package).rglob("*.py")
            if "dashboard/store" not in p.as_posix() and "migrations" not in p.parts]


def test_the_store_owns_every_redis_key_and_every_query():
    """No module outside dashboard/store talks to the Redis client, spells a key or builds SQL:
    Engine (a type) and sqlalchemy.exc (what a caller catches) are all the others may name."""
    found: dict[str, list[str]] = {}
    for path in _outside_store():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bad += [a.name for a in node.names if a.name.split(".")[0] in ("redis", "sqlalchemy")]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                root = node.module.split(".")[0]
                if root == "redis" or (root == "sqlalchemy" and node.module != "sqlalchemy.exc"
                                       and any(a.name != "Engine" for a in node.names)):
                    bad.append(node.module)
            elif isinstance(node, ast.Attribute) and node.attr == "r" and isinstance(node.value, ast.Attribute | ast.Name):
                bad.append(f"line {node.lineno}: .r (the Redis client)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("{gw}"):
                bad.append(f"line {node.lineno}: key {node.value!r}")
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}
