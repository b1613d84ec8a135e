"""The design card's layering, checked on the source: lower layers never import higher ones,
only firmware_bridge touches Bluetooth, and gui never imports bleak or bumble."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "posture": {"calibration", "firmware_bridge", "gui", "spinewatch", "bleak", "bumble"},
    "calibration": {"firmware_bridge", "gui", "spinewatch", "bleak", "bumble"},
    "firmware_bridge": {"calibration", "gui", "spinewatch"},
    "gui": {"spinewatch", "bleak", "bumble"},
    "spinewatch": {"bleak", "bumble"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_layering(package: str) -> None:
    bad = {
        str(p.relative_to(ROOT)): sorted(imported_roots(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
    }
    assert not {k: v for k, v in bad.items() if v}
