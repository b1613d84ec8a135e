"""The session file: schema, migrations, status, the recorded content and the summary."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from posture.records import AngleBlock, ImuBlock, OrientationBlock
from spinewatch.sessions import SessionError, SessionFile, SessionStatus, resolve, sessions_dir
from spinewatch.sessions.store import MIGRATIONS, SCHEMA_VERSION, migrate, pack_block, unpack_block
from spinewatch.sessions.writer import SessionWriter


def test_recording_holds_every_block_as_received(recorded: dict) -> None:
    src = recorded["source"]
    with SessionFile(recorded["path"]) as sf:
        assert sf.status is SessionStatus.COMPLETE
        for role in ("thoracic", "lumbar"):
            raw = sf.raw(role)
            truth = src.result.raw[role]
            np.testing.assert_array_equal(raw.t, truth.t)
            np.testing.assert_array_equal(raw.acc, truth.acc)
            np.testing.assert_array_equal(raw.gyr, truth.gyr)
            assert raw.seq is not None and truth.seq is not None
            np.testing.assert_array_equal(raw.seq, truth.seq)
        # Block boundaries and arrival order are kept (20 ms blocks, roles interleaved).
        roles = [b.sensor for _, b in sf.iter_blocks()]
        assert roles[:4] == ["thoracic", "lumbar", "thoracic", "lumbar"]
        assert len(roles) == recorded["result"].blocks


def test_live_angles_alerts_reps_are_stored(recorded: dict) -> None:
    ups = recorded["updates"]
    live = AngleBlock.concat([u.angles for u in ups])
    with SessionFile(recorded["path"]) as sf:
        ang, load = sf.angles()
        np.testing.assert_array_equal(ang.t, live.t)
        np.testing.assert_array_equal(ang.flexion, live.flexion)
        np.testing.assert_array_equal(ang.flags, live.flags)
        np.testing.assert_array_equal(load, np.concatenate([u.under_load for u in ups]))
        ended = [a for u in ups for a in u.ended]
        assert len(ended) >= 1
        assert sf.alerts() == sorted(ended, key=lambda a: (a.start_s, a.plane, a.side))
        reps = [r for u in ups for r in u.reps]
        assert len(reps) >= 2 and sf.reps() == reps
        kinds = [m.kind for m in sf.markers()]
        assert kinds == ["set_start", "note", "set_end"]
        assert sf.markers()[1].text == "felt a twinge"
        links = sf.link_stats()
        assert set(links) == {"thoracic", "lumbar"} and len(links["lumbar"]) >= 55
        assert links["lumbar"][-1][1]["received"] == len(sf.raw("lumbar"))


def test_summary_counts(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        s = sf.summary()
        assert s.status is SessionStatus.COMPLETE
        raw = recorded["source"].result.raw
        assert s.samples == {r: len(raw[r]) for r in ("thoracic", "lumbar")}
        assert s.dropped == {"thoracic": 0, "lumbar": 0}
        t0 = min(b.t[0] for b in raw.values())
        assert s.duration_s == pytest.approx(max(b.t[-1] for b in raw.values()) - t0)
        assert s.alerts == len(sf.alerts()) and s.reps == len(sf.reps())
        assert s.sets == 1 and s.notes == 1
    # A clean close leaves one self-contained file (no WAL beside it).
    assert not Path(f"{recorded['path']}-wal").exists()


def test_drops_are_counted_from_sequence_numbers(tmp_path: Path) -> None:
    w = SessionWriter(tmp_path / "d.sqlite", {})
    t = np.arange(10) / 100.0
    z = np.zeros((10, 3))
    seq = np.array([0, 1, 2, 5, 6, 7, 8, 9, 10, 11])
    w.block(ImuBlock("lumbar", t, z, z, None, seq))
    w.close()
    with SessionFile(tmp_path / "d.sqlite") as sf:
        assert sf.summary().dropped == {"lumbar": 2}


def test_block_packing_round_trips_imu_and_orientation() -> None:
    rng = np.random.default_rng(0)
    b = ImuBlock(
        "thoracic",
        np.arange(5.0),
        rng.normal(size=(5, 3)),
        rng.normal(size=(5, 3)),
        rng.normal(size=(5, 3)),
        np.arange(5) + 7,
    )
    row = pack_block(3, b)
    back = unpack_block(row)
    assert isinstance(back, ImuBlock)
    for k in ("t", "acc", "gyr", "mag", "seq"):
        np.testing.assert_array_equal(getattr(back, k), getattr(b, k))
    q = OrientationBlock("lumbar", np.arange(3.0), np.tile([1.0, 0, 0, 0], (3, 1)))
    back_q = unpack_block(pack_block(4, q))
    assert isinstance(back_q, OrientationBlock)
    np.testing.assert_array_equal(back_q.quat, q.quat)


def test_an_old_file_is_read_as_it_is_and_a_newer_one_refused(tmp_path: Path) -> None:
    p = tmp_path / "old.sqlite"
    db = sqlite3.connect(p, isolation_level=None)
    migrate(db, target=1)  # a file written by the first schema
    db.execute("INSERT INTO meta VALUES ('status', '\"complete\"')")
    db.close()
    before = p.read_bytes()
    with SessionFile(p) as sf:  # readable without its newer indexes; reading never migrates
        assert sf.db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert sf.summary().status is SessionStatus.COMPLETE
    assert p.read_bytes() == before
    assert SCHEMA_VERSION == len(MIGRATIONS)
    db = sqlite3.connect(p, isolation_level=None)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SessionError, match="newer than this spinewatch"):
        SessionFile(p)


def test_a_session_left_recording_by_a_dead_process_reads_as_interrupted(tmp_path: Path) -> None:
    p = tmp_path / "dead.sqlite"
    w = SessionWriter(p, {})
    w.close()
    db = sqlite3.connect(p, isolation_level=None)
    db.execute("""UPDATE meta SET value = '"recording"' WHERE key = 'status'""")
    db.execute("""UPDATE meta SET value = '{"pid": 999999999, "host": "x"}' WHERE key = 'writer'""")
    db.close()
    before = p.read_bytes()
    with SessionFile(p) as sf:
        assert sf.status is SessionStatus.INTERRUPTED
        assert sf.meta["status"] == "recording"  # reported, never written into the file
    assert p.read_bytes() == before


def test_names_resolve_in_the_sessions_folder(tmp_path: Path) -> None:
    assert sessions_dir() == tmp_path / "home" / "sessions"
    assert resolve("monday", must_exist=False) == sessions_dir() / "monday.sqlite"
    with pytest.raises(SessionError, match="no session named 'monday'"):
        resolve("monday")
    with pytest.raises(SessionError, match="already exists"):
        w = SessionWriter(tmp_path / "a.sqlite", {})
        w.close()
        SessionWriter(tmp_path / "a.sqlite", {})


def test_a_flat_out_source_waits_for_the_writer(tmp_path: Path) -> None:
    import asyncio

    from sim.source import SimulatedSource
    from sim.wearer import SimConfig
    from spinewatch.sessions.recorder import Recorder

    src = SimulatedSource("standing", 30.0, SimConfig(seed=1), speed=0, burst_s=0.2)
    rec = Recorder(src, tmp_path / "flat.sqlite", None)
    rec.max_backlog = 40
    asyncio.run(rec.run(poll_s=0.0))
    # One read adds ≤ 0.2 s of blocks and angles (~40 items) on top of the limit.
    assert rec.writer.max_backlog <= 40 + 60
    with SessionFile(tmp_path / "flat.sqlite") as sf:
        assert sf.summary().samples["lumbar"] == len(src.result.raw["lumbar"])
