"""The archive on disk or in an object store: layout, manifest, incremental interrupt-safe writes.

Layout (Hive partitioning, readable by DuckDB, Polars, pyarrow, Spark)::

    ROOT/_manifest.json                                   the committed state (written last)
    ROOT/table=T/wearer=W/date=YYYY-MM-DD/part-SID-HASH[-aN].parquet

``SID`` is the session id, ``HASH`` the first 16 hex digits of its content hash and ``-aN``
marks the parts of re-analysis ``N``. Part names are deterministic, so writing a session again
replaces its files instead of adding rows. Each part is written under a dot-prefixed temporary
name and renamed; the manifest is rewritten (temporary name + rename) only after the parts it
lists exist, and files no manifest entry refers to (left by an interrupted run, or replaced
sessions) are deleted at the end of the next run. A reader that lists its files from the
manifest (:meth:`Archive.current_files`, the ``fleet`` views) therefore never sees a half
archived session or a duplicate, whenever the writer was killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from spinewatch.archive import SCHEMA_VERSION, TABLES, ArchiveError
from spinewatch.archive.tables import SessionData, derive_tables, dumps, raw_table
from spinewatch.sessions.reader import SessionFile
from spinewatch.sessions.store import SessionError, SessionStatus

MANIFEST = "_manifest.json"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_archive() -> str:
    """``$SPINEWATCH_HOME/archive`` (next to the sessions folder)."""
    from spinewatch.sessions.store import sessions_dir

    return str(sessions_dir().parent / "archive")


def safe_key(v: str) -> str:
    """A partition value made of ``A-Z a-z 0-9 . _ -`` only (others become ``-``)."""
    s = _SAFE.sub("-", v.strip()).strip("-.")
    return s or "unknown"


# -- identity of a session -----------------------------------------------------------------------
def session_id(sf: SessionFile) -> str:
    """Stable id: ``meta.session_id`` if set, else a hash of when and by whom it was created."""
    sid = sf.meta.get("session_id")
    if sid:
        return safe_key(str(sid))
    w = sf.meta.get("writer") or {}
    key = [sf.meta.get("created_unix"), w.get("host"), w.get("pid"), w.get("start")]
    if key[0] is None:
        key.append(sf.name)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def wearer_of(sf: SessionFile, override: str | None = None) -> str:
    """``--wearer``, else ``meta.wearer``, else the profile's ``info.wearer``, else an id
    derived from the calibration profile (``profile-`` + 8 hex digits), else ``unknown``."""
    if override:
        return safe_key(override)
    if sf.meta.get("wearer"):
        return safe_key(str(sf.meta["wearer"]))
    prof = sf.meta.get("profile") or {}
    info = prof.get("info") or {}
    if info.get("wearer"):
        return safe_key(str(info["wearer"]))
    if prof:
        key = dumps([prof.get(k) for k in ("mount_thoracic", "mount_lumbar", "neutral", "created")])
        return "profile-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    return "unknown"


_NOT_CONTENT = ("meta", "link_stats")  # meta is hashed decoded; link statistics are not data


def content_hash(sf: SessionFile) -> str:
    """SHA-256 over the session's stored facts (``meta`` without the writer process) and the
    stored rows of its data tables (whatever the file's schema version holds: blocks or
    compact batches), in storage order, the BLOBs as stored, not decoded."""
    h = hashlib.sha256()
    meta = {k: v for k, v in sf.meta.items() if k != "writer"}
    h.update(dumps(meta).encode())
    names = sf.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    for (table,) in names.fetchall():
        if table in _NOT_CONTENT or table.startswith("sqlite_"):
            continue
        h.update(f"|{table}|".encode())
        for row in sf.db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            for v in row:
                h.update(v if isinstance(v, bytes) else repr(v).encode())
    return h.hexdigest()


def session_data(sf: SessionFile, sid: str, digest: str) -> SessionData:
    """The recorded (live) analysis of a session, as archived."""
    ang, load = sf.angles()
    return SessionData(
        session_id=sid,
        name=sf.name,
        content_hash=digest,
        status=sf.status.value,
        created_unix=float(sf.meta.get("created_unix", 0.0)),
        meta={k: v for k, v in sf.meta.items() if k != "writer"},
        angles=ang,
        under_load=load,
        alerts=sf.alerts(),
        reps=sf.reps(),
        markers=sf.markers(),
        thresholds=sf.thresholds(),
        source_path=str(Path(sf.path).resolve()),
        raw_samples=sum(sf.summary().samples.values()),
    )


def date_of(created_unix: float) -> str:
    """The partition date: the UTC calendar day the recording was created."""
    return datetime.fromtimestamp(created_unix, UTC).strftime("%Y-%m-%d")


# -- the archive ---------------------------------------------------------------------------------
def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" in uri and not uri.startswith("file://"):
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
            return fs, str(root)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ArchiveError(f"{uri}: cannot open this archive location ({exc})") from None
    path = uri.removeprefix("file://")
    return pafs.LocalFileSystem(), str(Path(path).expanduser().resolve())


class Archive:
    """An archive root on any filesystem pyarrow supports (local folder, ``s3://``, ``gs://``…)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.fs, self.root = _filesystem(uri)

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def exists(self) -> bool:
        return self.fs.get_file_info(self.path(MANIFEST)).type == pafs.FileType.File

    # -- manifest ------------------------------------------------------------------------------
    def load_manifest(self, must_exist: bool = False) -> dict[str, Any]:
        if not self.exists():
            if must_exist:
                raise ArchiveError(
                    f"{self.uri}: no archive here (no {MANIFEST}); create it with "
                    "'spinewatch archive --to DIR'"
                )
            return {"schema_version": SCHEMA_VERSION, "version": 0, "history": [], "sessions": {},
                    "sources": {}}  # fmt: skip
        with self.fs.open_input_stream(self.path(MANIFEST)) as f:
            try:
                m: dict[str, Any] = json.loads(f.read())
            except ValueError as exc:
                raise ArchiveError(f"{self.uri}: unreadable {MANIFEST} ({exc})") from None
        if int(m.get("schema_version", 0)) > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.uri}: archive schema version {m['schema_version']} is newer than this "
                f"spinewatch supports ({SCHEMA_VERSION}); update spinewatch"
            )
        return m

    def save_manifest(self, m: dict[str, Any]) -> None:
        """Atomically replace the manifest (temporary name in the same folder, then rename)."""
        self.fs.create_dir(self.root, recursive=True)
        tmp = self.path(f".{MANIFEST}.{os.getpid()}.tmp")
        with self.fs.open_output_stream(tmp) as f:
            f.write(json.dumps(m, indent=1, sort_keys=True).encode())
        self.fs.move(tmp, self.path(MANIFEST))

    # -- parts ---------------------------------------------------------------------------------
    def write_part(self, table: str, wearer: str, date: str, name: str, t: pa.Table) -> str:
        """Write one part file (temporary name, then rename); returns its path under the root."""
        folder = f"table={table}/wearer={wearer}/date={date}"
        self.fs.create_dir(self.path(folder), recursive=True)
        rel = f"{folder}/{name}.parquet"
        tmp = self.path(f"{folder}/.{name}.parquet.tmp")
        pq.write_table(t, tmp, filesystem=self.fs, compression="zstd")
        self.fs.move(tmp, self.path(rel))
        return rel

    def current_files(self, table: str, m: dict[str, Any] | None = None) -> list[str]:
        """Paths (under the root) of ``table``'s parts in the latest analysis of each session."""
        m = m if m is not None else self.load_manifest(must_exist=True)
        out = []
        for e in m["sessions"].values():
            if table == "raw":
                if e.get("raw"):
                    out.append(e["raw"])
                continue
            files = e["analyses"][str(max(int(k) for k in e["analyses"]))]
            if table in files:
                out.append(files[table])
        return sorted(out)

    def referenced(self, m: dict[str, Any]) -> set[str]:
        refs: set[str] = set()
        for e in m["sessions"].values():
            for files in e["analyses"].values():
                refs.update(files.values())
            if e.get("raw"):
                refs.add(e["raw"])
        return refs

    def collect_garbage(self, m: dict[str, Any]) -> int:
        """Delete part and temporary files the manifest does not refer to; returns how many."""
        refs = self.referenced(m)
        sel = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        gone = 0
        for info in self.fs.get_file_info(sel):
            if info.type != pafs.FileType.File or not info.path.startswith(self.root + "/table="):
                continue
            rel = info.path[len(self.root) + 1 :]
            if rel not in refs:
                self.fs.delete_file(info.path)
                gone += 1
        return gone

    def size_bytes(self) -> int:
        sel = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        return sum(i.size or 0 for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.File)


# -- archiving sessions --------------------------------------------------------------------------
@dataclass
class ArchiveReport:
    """What one ``archive`` run did."""

    added: list[str] = field(default_factory=list)  # session ids new to the archive
    changed: list[str] = field(default_factory=list)  # archived again (content or wearer changed)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # still recording / unreadable, with reason
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    removed_files: int = 0
    version: int = 0


def write_session(
    arc: Archive, d: SessionData, wearer: str, tag: str, raw: pa.Table | None
) -> tuple[dict[str, str], dict[str, int]]:
    """Write a session's part files; returns its ``files`` (table → path) and rows per table."""
    date = date_of(d.created_unix)
    tables = derive_tables(d)
    if raw is not None:
        tables["raw"] = raw
    files = {}
    for table, t in tables.items():
        files[table] = arc.write_part(table, wearer, date, f"part-{d.session_id}-{tag}", t)
    return files, {k: t.num_rows for k, t in tables.items()}


def archive_sessions(
    paths: Iterable[str | os.PathLike[str]],
    dest: str,
    *,
    wearer: str | None = None,
    raw: bool = False,
    commit_every: int = 25,
    on_session: Callable[[str, str], None] | None = None,
) -> ArchiveReport:
    """Add new or changed sessions to the archive at ``dest`` (created if needed).

    A session is skipped when the manifest already holds its id with the same content hash and
    wearer (and raw samples, with ``raw``); a file whose size and modification time match the
    manifest's record is skipped without reading it. The manifest is committed every
    ``commit_every`` sessions and at the end. ``on_session(path, what)`` reports progress.
    """
    arc = Archive(dest)
    m = arc.load_manifest()
    rep = ArchiveReport()
    pending = 0
    dirty = False
    for p in paths:
        path = Path(p)
        key = str(path.resolve())
        try:
            st = path.stat()
        except OSError as exc:
            rep.skipped.append(f"{path}: {exc.strerror}")
            continue
        seen = m["sources"].get(key)
        stamp = [st.st_size, st.st_mtime_ns]
        if (
            seen
            and seen["stat"] == stamp
            and _current(m, seen["session_id"], seen["hash"], wearer, raw)
        ):
            rep.unchanged += 1
            continue
        try:
            with SessionFile(path) as sf:
                if sf.status is SessionStatus.RECORDING:
                    rep.skipped.append(f"{path}: still recording")
                    continue
                sid, digest = session_id(sf), content_hash(sf)
                who = wearer_of(sf, wearer)
                if _current(m, sid, digest, who, raw):
                    m["sources"][key] = {"stat": stamp, "session_id": sid, "hash": digest}
                    rep.unchanged += 1
                    dirty = True
                    continue
                d = session_data(sf, sid, digest)
                rt = raw_table(sid, sf.iter_blocks()) if raw else None
        except SessionError as exc:
            rep.skipped.append(str(exc))
            continue
        files, rows = write_session(arc, d, who, digest[:16], rt)
        raw_rel = files.pop("raw", None)
        (rep.changed if sid in m["sessions"] else rep.added).append(sid)
        m["sessions"][sid] = {
            "hash": digest,
            "wearer": who,
            "date": date_of(d.created_unix),
            "name": d.name,
            "source": key,
            "archived_unix": time.time(),
            "analyses": {"0": files},
            "raw": raw_rel,
        }
        m["sources"][key] = {"stat": stamp, "session_id": sid, "hash": digest}
        for table, n in rows.items():
            rep.rows[table] = rep.rows.get(table, 0) + n
        if on_session is not None:
            on_session(str(path), "archived")
        pending += 1
        if pending >= commit_every:
            arc.save_manifest(m)
            pending = 0
    if rep.added or rep.changed:
        m["version"] = int(m["version"]) + 1
        m["history"].append(
            {
                "version": m["version"],
                "kind": "archive",
                "unix": time.time(),
                "added": len(rep.added),
                "changed": len(rep.changed),
            }  # fmt: skip
        )
    if rep.added or rep.changed or dirty or not arc.exists():
        arc.save_manifest(m)
    rep.removed_files = arc.collect_garbage(m)
    rep.version = int(m["version"])
    return rep


def _current(m: dict[str, Any], sid: str, digest: str, wearer: str | None, raw: bool) -> bool:
    e = m["sessions"].get(sid)
    if e is None or e["hash"] != digest:
        return False
    if wearer is not None and e["wearer"] != safe_key(wearer):
        return False
    return not (raw and not e.get("raw"))


def session_paths(names: Iterable[str]) -> list[Path]:
    """Session files from names/paths, or every session in the sessions folder."""
    from spinewatch.sessions.store import SUFFIX, resolve, sessions_dir

    names = list(names)
    if names:
        return [resolve(n) for n in names]
    return sorted(sessions_dir().glob(f"*{SUFFIX}"))


__all__ = ["MANIFEST", "TABLES", "Archive", "ArchiveReport", "archive_sessions"]
