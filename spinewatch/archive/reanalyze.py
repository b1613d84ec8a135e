"""Re-run the engine over every archived session — in this process or on a Dask cluster.

One session is one task (:func:`reanalyze_one`): it reads the session's raw samples and
computes the batch estimate over the whole recording
(:func:`spinewatch.sessions.reanalysis.reanalyze_session`: offline fusion, heading anchors on
both sides, alerts and reps over the whole angle stream, the user's set markers as manual
sets) with the new thresholds and/or calibration profile — or, with ``live=True``, replays
the raw blocks through a fresh live pipeline exactly as ``spinewatch replay`` does (what the
wearer would have seen) — derives the archive's tables and writes them as the parts of
analysis ``N`` (``part-SID-HASH-aN.parquet``). The driver commits them as archive version
``N`` in one manifest write at the end, so an interrupted re-analysis leaves the archive as it
was (its parts are overwritten by the next attempt or removed by the next run's clean-up).

**Where the raw samples come from** (the engine needs them): the archive's ``raw`` table when
the session was archived with ``--raw`` — the only way on a cluster without the session
files — else the session file at ``source_path``, which must then be readable by the workers
at that path and unchanged since it was archived (its content hash is checked).

Each task computes with the same code on the same input and the same float64 arithmetic, so
the result does not depend on where it ran: a LocalCluster's results equal an in-process run
bit for bit (tested).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spinewatch.archive import ArchiveError
from spinewatch.archive.dataset import Archive
from spinewatch.sessions.reader import Block, Marker, SessionFile
from spinewatch.sessions.store import SessionStatus


@dataclass(frozen=True)
class Job:
    """One session to re-analyse (picklable: it travels to a Dask worker)."""

    archive: str
    version: int
    session_id: str
    entry: dict[str, Any]
    thresholds: str | None = None
    profile_dir: str | None = None
    live: bool = False  # replay through the live pipeline instead of the batch estimate


class ArchivedSession(SessionFile):
    """A session rebuilt from the archive (``sessions`` row + ``raw`` part), for replay."""

    def __init__(self, row: dict[str, Any], blocks: list[tuple[int, Block]]) -> None:
        # No SQLite file behind it: only what replay reads (meta, markers, blocks).
        self.path = Path(row["source_path"] or row["name"])
        self.meta = json.loads(row["meta_json"])
        self.status = SessionStatus(row["status"])
        self._blocks = blocks
        self._markers = [Marker(int(o), t, k, x) for o, t, k, x in json.loads(row["markers_json"])]

    def close(self) -> None:
        pass

    def iter_blocks(self, role: str | None = None, page: int = 2000) -> Iterator[tuple[int, Block]]:
        return iter([(k, b) for k, b in self._blocks if role is None or b.sensor == role])

    def markers(self) -> list[Marker]:
        return list(self._markers)


def _sessions_row(arc: Archive, entry: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    files = entry["analyses"]["0"]
    rows: list[dict[str, Any]] = pq.read_table(
        arc.path(files["sessions"]), filesystem=arc.fs
    ).to_pylist()
    return rows[0]


def reanalyze_one(job: Job) -> dict[str, Any]:
    """Re-analyse one session and write its parts; returns ``{session_id, files, rows}``."""
    import pyarrow.parquet as pq

    from calibration import CalibrationProfile
    from calibration.profile import thresholds_for
    from posture.thresholds import Thresholds
    from spinewatch.archive.dataset import content_hash, write_session
    from spinewatch.archive.tables import SessionData, blocks_from_raw
    from spinewatch.sessions.reanalysis import reanalyze_session
    from spinewatch.sessions.replay import replay_session

    arc = Archive(job.archive)
    e = job.entry
    row = _sessions_row(arc, e)
    if e.get("raw"):
        raw = pq.read_table(arc.path(e["raw"]), filesystem=arc.fs)
        sf: SessionFile = ArchivedSession(row, blocks_from_raw(raw))
    else:
        src = row["source_path"]
        if not src or not Path(src).is_file():
            raise ArchiveError(
                f"session {job.session_id}: no raw samples in the archive and the session file "
                f"'{src}' is not readable here; archive it with 'spinewatch archive --raw'"
            )
        sf = SessionFile(src)
        if content_hash(sf) != e["hash"]:
            sf.close()
            raise ArchiveError(
                f"session {job.session_id}: {src} changed since it was archived; run "
                "'spinewatch archive' first"
            )
    try:
        profile = sf.profile()  # the recorded one unless --profile-dir has this wearer's
        settings: dict[str, Any] = {
            "thresholds": job.thresholds,
            "profile": None,
            "engine": "live" if job.live else "batch",
        }
        cand = Path(job.profile_dir) / f"{e['wearer']}.json" if job.profile_dir else None
        if cand is not None and cand.is_file():
            profile = CalibrationProfile.load(cand)
            settings["profile"] = str(cand)
            thr = thresholds_for(profile, job.thresholds)
        elif job.thresholds:
            thr = Thresholds.parse(job.thresholds, sf.thresholds())
        else:
            thr = sf.thresholds()
        if job.live:
            res = replay_session(sf, profile, thr)
        else:
            res = reanalyze_session(sf, profile, thr)
        # As the recorder stores them: one row per alert, the ended state replacing the raised.
        alerts = {(a.start_s, a.plane, a.side): a for a in [*res.raised, *res.alerts]}
        meta = {k: v for k, v in sf.meta.items() if k != "writer"}
        d = SessionData(
            session_id=job.session_id,
            name=row["name"],
            content_hash=e["hash"],
            status=row["status"],
            created_unix=float(row["created_unix"]),
            meta=meta,
            angles=res.angles,
            under_load=res.under_load,
            alerts=list(alerts.values()),
            reps=res.reps,
            markers=sf.markers(),
            thresholds=thr,
            source_path=row["source_path"],
            raw_samples=int(row["raw_samples"]),
            analysis=job.version,
            settings=settings,
        )
    finally:
        sf.close()
    files, rows = write_session(arc, d, e["wearer"], f"{e['hash'][:16]}-a{job.version}", None)
    return {"session_id": job.session_id, "files": files, "rows": rows}


@dataclass
class ReanalysisReport:
    version: int
    sessions: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    where: str = ""


def reanalyze(
    uri: str,
    *,
    thresholds: str | None = None,
    profile_dir: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    on_done: Callable[[str], None] | None = None,
    live: bool = False,
) -> ReanalysisReport:
    """Re-analyse every session of the archive at ``uri`` into archive version N + 1.

    ``workers=0`` runs in this process; otherwise a Dask ``LocalCluster`` of ``workers``
    single-threaded worker processes (default: one per CPU) on 127.0.0.1, or the cluster at
    ``scheduler`` (``tcp://HOST:PORT``; the archive must then be on storage every worker
    reaches under the same path or URI). ``live``: replay through the live pipeline (what the
    wearer would have seen) instead of the batch estimate.
    """
    if "://" not in uri:
        uri = str(Path(uri).expanduser().resolve())  # workers may run elsewhere
    arc = Archive(uri)
    m = arc.load_manifest(must_exist=True)
    version = int(m["version"]) + 1
    jobs = [
        Job(
            uri,
            version,
            sid,
            e,
            thresholds,
            None if profile_dir is None else str(Path(profile_dir).resolve()),
            live,
        )
        for sid, e in sorted(m["sessions"].items())
    ]
    rep = ReanalysisReport(version)
    results: list[dict[str, Any]] = []
    if workers == 0 and scheduler is None:
        rep.where = "this process"
        for j in jobs:
            results.append(reanalyze_one(j))
            if on_done is not None:
                on_done(j.session_id)
    else:
        results, rep.where = _on_dask(jobs, scheduler, workers, on_done)
    for r in results:
        m["sessions"][r["session_id"]]["analyses"][str(version)] = r["files"]
        for t, n in r["rows"].items():
            rep.rows[t] = rep.rows.get(t, 0) + n
    rep.sessions = len(results)
    m["version"] = version
    m["history"].append(
        {
            "version": version,
            "kind": "reanalysis",
            "unix": time.time(),
            "sessions": len(results),
            "thresholds": thresholds,
            "profile_dir": profile_dir,
            "engine": "live" if live else "batch",
            "where": rep.where,
        }  # fmt: skip
    )
    arc.save_manifest(m)
    arc.collect_garbage(m)
    return rep


def _on_dask(
    jobs: list[Job],
    scheduler: str | None,
    workers: int | None,
    on_done: Callable[[str], None] | None,
) -> tuple[list[dict[str, Any]], str]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip
        where = f"Dask LocalCluster, {n} worker processes"
    else:
        where = f"Dask cluster at {scheduler}"
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="60s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ArchiveError(f"cannot reach the Dask scheduler {scheduler} ({exc})") from None
    try:
        futures = [
            client.submit(
                reanalyze_one, j, key=f"reanalyze-{j.session_id}-v{j.version}", pure=False
            )
            for j in jobs
        ]
        out = []
        for fut in as_completed(futures):
            r = fut.result()
            out.append(r)
            if on_done is not None:
                on_done(r["session_id"])
        return out, where
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
