"""Shared, session-scoped artefacts that are expensive to make (simulated wearers, profiles).

Every value handed out is frozen (profiles) or must be treated as read-only (simulated raw
blocks): tests that change one make their own copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from sim.wearer import SimConfig, SimResult

# Qt offscreen for every test that opens a widget (not only tests/gui): with xdist, a worker may
# run tests/spinewatch/sessions/test_gui_sink.py without ever loading tests/gui/conftest.py.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Where PYTHONDONTWRITEBYTECODE is set (some containers), every xdist worker and every CLI
# subprocess the tests start would compile numpy, scipy, pyarrow and spinewatch from source
# again (~1 s of CPU per process). The tests keep bytecode in a private folder instead (never
# in the source tree or the environment); SPINEWATCH_TEST_PYCACHE=0 keeps the setting as is.
# This module is loaded before xdist starts its workers, so they and their children inherit it.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and os.environ.get("SPINEWATCH_TEST_PYCACHE") != "0":
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX",
        os.path.join(tempfile.gettempdir(), f"spinewatch-test-pycache-{os.getuid()}"),
    )

# Profiles calibrated by one xdist worker, shared with the others through files (set by the
# ``_shared_cache_dir`` fixture; None: this process only).
_SHARED: dict[str, Path | None] = {"dir": None}


def _profile(seed: int | SimConfig, rate_hz: float = 200.0) -> CalibrationProfile:
    """``calibrated_profile(seed, rate_hz)`` or ``calibrated_profile(config)``, calibrated once
    per test run across all xdist workers (a few seconds each)."""
    return _shared_profile(seed if not isinstance(seed, int) else (seed, float(rate_hz)))


@lru_cache(maxsize=32)
def _shared_profile(key: tuple[int, float] | SimConfig) -> CalibrationProfile:
    """The first worker to need a profile calibrates it and writes it, under a file lock."""
    from calibration import CalibrationProfile
    from sim.wearer import calibrated_profile

    def make() -> CalibrationProfile:
        return calibrated_profile(*key) if isinstance(key, tuple) else calibrated_profile(key)

    folder = _SHARED["dir"]
    if folder is None:
        return make()
    from filelock import FileLock

    name = hashlib.sha256(repr(key).encode()).hexdigest()[:20]
    path = folder / f"profile-{name}.json"
    with FileLock(f"{path}.lock"):
        if not path.exists():
            prof = make()
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(prof.to_json_dict()), encoding="utf-8")
            tmp.replace(path)
            return prof
    # JSON keeps every float exactly (repr round trip): the same profile as calibrating here.
    return CalibrationProfile.from_json_dict(json.loads(path.read_text(encoding="utf-8")))


def shared_artefact(name: str, make: Callable[[Path], object]) -> Path:
    """``<shared folder>/name``, made once per test run for all xdist workers.

    The first worker to ask calls ``make(tmp)`` under a file lock (``make`` writes the file
    or folder ``tmp``, which is then renamed to the returned path); the others wait on the
    lock and use what it made. The artefact is read-only: a test that changes it works on a
    copy. Without a shared folder (outside fixtures) the artefact goes to a private one.
    """
    from filelock import FileLock

    folder = _SHARED["dir"] or Path(tempfile.mkdtemp(prefix="spinewatch-artefact-"))
    path = folder / name
    with FileLock(f"{path}.lock"):
        if not path.exists():
            tmp = folder / f".{name}.tmp"
            if tmp.is_dir():
                shutil.rmtree(tmp)  # left by a worker that failed half-way
            tmp.unlink(missing_ok=True)
            make(tmp)
            tmp.replace(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _shared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A folder all xdist workers of this run share (the parent of their base temp dirs)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / "shared-artefacts"
    folder.mkdir(exist_ok=True)
    _SHARED["dir"] = folder


@lru_cache(maxsize=32)
def _simulated(script: str, seed: int, duration_s: float | None, rate_hz: float) -> SimResult:
    from sim.wearer import SimConfig, simulate

    return simulate(script, SimConfig(seed=seed, rate_hz=rate_hz), duration_s=duration_s)


@pytest.fixture(scope="session")
def sim_profile() -> Callable[..., CalibrationProfile]:
    """``sim_profile(seed=3, rate_hz=200.0)`` or ``sim_profile(config)``: the calibration
    profile of a simulated wearer (``sim.wearer.calibrated_profile``), calibrated once per test
    run (a few seconds each)."""

    def get(seed: int | SimConfig = 3, rate_hz: float = 200.0) -> CalibrationProfile:
        return _profile(seed, rate_hz)

    return get


@pytest.fixture(scope="session")
def sim_session() -> Callable[..., SimResult]:
    """``sim_session(script, seed=3, duration_s=None, rate_hz=200.0)``: a default-config
    simulation (``sim.wearer.SimResult``), made once per test run. Read-only."""

    def get(
        script: str, seed: int = 3, duration_s: float | None = None, rate_hz: float = 200.0
    ) -> SimResult:
        return _simulated(script, seed, duration_s, float(rate_hz))

    return get


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding long end-to-end tests (marked ``slow``) first, otherwise in collected
    order: with two xdist workers a long test that starts last would run alone at the end.
    Whole modules move, so their module-scoped fixtures are still made once."""

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    slow = {module(item) for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: module(item) not in slow)
