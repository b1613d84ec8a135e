"""No function or method in posture/ and calibration/ is longer than 60 lines.

Counted from the first decorator (or ``def``) to the function's last line, docstring and
comments included: long functions are split into named phases instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60


def function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """``(qualified name, first line, length in lines)`` of every function in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                assert child.end_lineno is not None
                out.append((prefix + child.name, first, child.end_lineno - first + 1))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def test_counts_decorators_docstrings_and_nested_functions(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "import functools\n\n\nclass C:\n    @functools.cache\n    @staticmethod\n"
        "    def f():\n        '''Doc.'''\n\n        def g():\n            pass\n"
        "        return 1\n"
    )
    assert function_lengths(src) == [("C.f", 5, 8), ("C.f.g", 10, 2)]


@pytest.mark.parametrize("package", ["posture", "calibration"])
def test_no_function_over_60_lines(package: str) -> None:
    too_long = {
        f"{p.relative_to(ROOT)}:{line} {name}": n
        for p in sorted((ROOT / package).rglob("*.py"))
        for name, line, n in function_lengths(p)
        if n > MAX_LINES
    }
    assert not too_long, f"functions over {MAX_LINES} lines (split them into named phases)"
