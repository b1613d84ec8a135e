"""The design card's layering, checked on the source: lower layers never import higher ones,
only firmware_bridge and sim touch Bluetooth stacks, gui never imports bleak or bumble, the
simulation (sim/) is reached from product code only on the demo and ``--simulate`` paths, and
no import cycles anywhere.

Imports are read with ``ast`` (nothing is imported). Both module-level imports and imports
inside functions count; imports under ``if TYPE_CHECKING:`` do not (they never run)."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("firmware_bridge", "posture", "calibration", "gui", "spinewatch")
PACKAGES = (*PRODUCT, "sim")
BLUETOOTH = {"bleak", "bumble"}
FORBIDDEN = {
    "posture": {"calibration", "firmware_bridge", "gui", "spinewatch", "sim", *BLUETOOTH},
    "calibration": {"firmware_bridge", "gui", "spinewatch", "sim", *BLUETOOTH},
    "firmware_bridge": {"calibration", "gui", "spinewatch", "sim"},
    "gui": {"spinewatch", "sim", *BLUETOOTH},
    "spinewatch": set(BLUETOOTH),  # sim: only from SIM_ALLOWED below
    "sim": {"gui", "spinewatch"},
}
# The only places product code may import sim: (file, enclosing function) — the demo and
# the --simulate paths, imported lazily inside the function that needs it. "<module>": the
# whole module is a --simulate path (it is itself imported only lazily, from train --simulate).
SIM_ALLOWED = {
    ("spinewatch/argtypes.py", "fault_spec"),  # --fault (simulated sensors only)
    ("spinewatch/coach/gui_driver.py", "CoachDriver._run"),  # train --gui: simulated wearer
    ("spinewatch/coach/simulated.py", "<module>"),  # train --simulate
    ("spinewatch/commands/gui.py", "run"),  # gui --simulate
    ("spinewatch/commands/monitor.py", "run"),  # monitor --simulate
    ("spinewatch/commands/record.py", "run"),  # record --simulate
    ("spinewatch/commands/scan.py", "run.go"),  # scan --simulate
    ("spinewatch/commands/simulate.py", "run"),  # simulate
    ("spinewatch/commands/simulate.py", "_sensor_table"),  # simulate sensor-table
    ("spinewatch/demo.py", "_run_demo"),
    ("spinewatch/demo.py", "run_live_demo"),
    ("spinewatch/demo.py", "run_gui_demo"),
    ("spinewatch/sources.py", "open_source"),  # --simulate sources
}


@dataclass(frozen=True)
class Import:
    module: str  # absolute ("sim.wearer")
    names: tuple[str, ...]  # "from module import names" (empty for "import module")
    scope: str  # "<module>" or the enclosing function's qualified name


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports_in(source: str, package: str) -> list[Import]:
    """Every import in ``source`` (a module of ``package``) that runs, made absolute, with the
    function or class it is in."""
    out: list[Import] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                continue  # an import is a statement: never inside an expression
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.orelse:
                    visit(stmt, scope)
            elif isinstance(child, ast.Import):
                out.extend(Import(a.name, (), scope) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                mod = child.module or ""
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    mod = ".".join([*base, *([mod] if mod else [])])
                out.append(Import(mod, tuple(a.name for a in child.names), scope))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, child.name if scope == "<module>" else f"{scope}.{child.name}")
            else:
                visit(child, scope)

    visit(ast.parse(source), "<module>")
    return out


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def imports(path: Path) -> list[Import]:
    """The imports of one file, parsed once per test process (several tests read them)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_layering(package: str) -> None:
    bad = {}
    for p in _files(package):
        roots = {i.module.split(".")[0] for i in imports(p)}
        if roots & FORBIDDEN[package]:
            bad[str(p.relative_to(ROOT))] = sorted(roots & FORBIDDEN[package])
    assert not bad


def test_sim_is_imported_by_product_code_only_on_the_simulated_paths() -> None:
    found = {
        (str(p.relative_to(ROOT)), i.scope)
        for pkg in PRODUCT
        for p in _files(pkg)
        for i in imports(p)
        if i.module.split(".")[0] == "sim"
    }
    assert found - SIM_ALLOWED == set(), "sim imported outside the demo/--simulate paths"
    assert SIM_ALLOWED - found == set(), "stale entries in SIM_ALLOWED"


def test_only_the_bridge_and_the_simulation_touch_bluetooth() -> None:
    users = {
        str(p.relative_to(ROOT)).split("/")[0]
        for p in ROOT.glob("*/**/*.py")
        if p.relative_to(ROOT).parts[0] in PACKAGES
        and any(i.module.split(".")[0] in BLUETOOTH for i in imports(p))
    }
    assert users <= {"firmware_bridge", "sim"}


def _graph() -> dict[str, set[str]]:
    """Module → the modules it imports. ``from pkg import mod`` is an edge to ``pkg.mod`` only
    (``pkg/__init__`` runs first anyway, as the parent of every module in it)."""
    files = {_module_name(p): p for pkg in (*PACKAGES, "benchmarks", "tests") for p in _files(pkg)}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges = set()
        for i in imports(path):
            subs = {f"{i.module}.{n}" for n in i.names} & files.keys()
            if subs:
                edges |= subs
            if i.module in files and len(subs) < len(i.names) or not i.names:
                edges.add(i.module)
        graph[name] = (edges & files.keys()) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles() -> None:
    """Over the product packages, sim, benchmarks and tests. Module-level and function-level
    imports both count: a lazy import that closes a cycle is still a cycle in the design (and
    returns ``Any`` where it meets the type checker)."""
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_with_their_scope() -> None:
    src = (
        "from typing import TYPE_CHECKING\nimport sim.clock\n"
        "if TYPE_CHECKING:\n    import sim.wearer\n"
        "class C:\n    def f(self):\n        from . import source\n"
    )
    got = imports_in(src, "sim")
    assert Import("sim.clock", (), "<module>") in got
    assert Import("sim", ("source",), "C.f") in got
    assert not any(i.module == "sim.wearer" for i in got)
