"""DuckDB over the archive: the documented views and the per-wearer, per-week fleet report.

:func:`open_archive` returns an in-memory DuckDB connection with one view per table
(``sessions``, ``sets``, ``reps``, ``alerts``, ``seconds`` and, if archived, ``raw``), each
over the parts the manifest lists for the latest analysis of every session, with the Hive
partition keys ``wearer`` (VARCHAR) and ``date`` (DATE) as columns, plus ``weekly`` — the fleet
report (:data:`WEEKLY_SQL`). docs/archive.md documents every column, so users write their own
queries on the same connection (``spinewatch fleet --sql``) or straight on the files.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from spinewatch.archive import TABLES, ArchiveError
from spinewatch.archive.dataset import Archive

if TYPE_CHECKING:
    import duckdb

PLANE_SIDES = tuple(
    (p, s) for p in ("flexion", "lateral_flexion", "rotation") for s in ("positive", "negative")
)


def rate_column(plane: str, side: str) -> str:
    return f"{plane}_{side[:3]}_per_h"


_PER_PLANE = ",\n        ".join(
    f"count(*) FILTER (WHERE a.under_load AND a.plane = '{p}' AND a.side = '{s}') AS n_{p}_{s}"
    for p, s in PLANE_SIDES
)
_RATES = ",\n    ".join(
    f"coalesce(n_{p}_{s}, 0) / nullif(sw.loaded_s / 3600, 0) AS {rate_column(p, s)}"
    for p, s in PLANE_SIDES
)

# One row per wearer and ISO week (of the session's UTC start date).
WEEKLY_SQL = f"""
CREATE VIEW session_weeks AS
    SELECT session_id, wearer, date, strftime(date, '%G-W%V') AS week, loaded_s, duration_s
    FROM sessions;
CREATE VIEW weekly AS
WITH sw AS (
    SELECT wearer, week, count(*) AS sessions, sum(duration_s) AS recorded_s,
           sum(loaded_s) AS loaded_s
    FROM session_weeks GROUP BY wearer, week
), al AS (
    SELECT s.wearer, s.week, count(*) FILTER (WHERE a.under_load) AS n_alerts,
        {_PER_PLANE}
    FROM alerts a JOIN session_weeks s ON a.session_id = s.session_id GROUP BY s.wearer, s.week
), rp AS (
    SELECT s.wearer, s.week, count(*) AS reps, median(r.hip_share) AS median_hip_share,
           avg(CASE WHEN r.rounded THEN 1.0 ELSE 0.0 END) AS rounded_share
    FROM reps r JOIN session_weeks s ON r.session_id = s.session_id GROUP BY s.wearer, s.week
), st AS (
    SELECT s.wearer, s.week, count(x.flexion_drift_deg) AS sets_with_drift,
           avg(x.flexion_drift_deg) AS flexion_drift_deg
    FROM sets x JOIN session_weeks s ON x.session_id = s.session_id GROUP BY s.wearer, s.week
)
SELECT
    sw.wearer, sw.week, sw.sessions,
    sw.recorded_s / 3600 AS recorded_h,
    sw.loaded_s / 3600 AS loaded_h,
    coalesce(rp.reps, 0) AS reps,
    coalesce(al.n_alerts, 0) AS alerts,
    coalesce(al.n_alerts, 0) / nullif(sw.loaded_s / 3600, 0) AS alerts_per_loaded_h,
    {_RATES},
    rp.median_hip_share,
    rp.rounded_share,
    st.flexion_drift_deg,
    coalesce(st.sets_with_drift, 0) AS sets_with_drift
FROM sw
LEFT JOIN al ON al.wearer = sw.wearer AND al.week = sw.week
LEFT JOIN rp ON rp.wearer = sw.wearer AND rp.week = sw.week
LEFT JOIN st ON st.wearer = sw.wearer AND st.week = sw.week
ORDER BY sw.wearer, sw.week;
"""


def open_archive(uri: str, *, native: bool | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the archive's views (see the module docstring).

    ``native``: read the files with DuckDB's own Parquet reader (default for local folders);
    otherwise through pyarrow's filesystems (object stores), which DuckDB scans lazily.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    arc = Archive(uri)
    m = arc.load_manifest(must_exist=True)
    if not m["sessions"]:
        raise ArchiveError(f"{uri}: the archive holds no sessions yet; run 'spinewatch archive'")
    if native is None:
        native = isinstance(arc.fs, pafs.LocalFileSystem)
    con = duckdb.connect()
    part = ds.partitioning(
        pa.schema([("table", pa.string()), ("wearer", pa.string()), ("date", pa.string())]),
        flavor="hive",
    )
    for table in (*TABLES, "raw"):
        files = [arc.path(f) for f in arc.current_files(table, m)]
        if not files:
            continue
        if native:
            # A view cannot take parameters: the file list goes in as quoted SQL literals.
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(
                f'CREATE VIEW {table} AS SELECT * EXCLUDE ("table") FROM read_parquet('
                f"[{listed}], hive_partitioning = true, union_by_name = true, "
                "hive_types = {'table': VARCHAR, 'wearer': VARCHAR, 'date': DATE})"
            )
        else:
            dset = ds.dataset(
                files, filesystem=arc.fs, format="parquet", partitioning=part,
                partition_base_dir=arc.root,
            )  # fmt: skip
            con.register(f"_arrow_{table}", dset)
            con.execute(
                f'CREATE VIEW {table} AS SELECT * EXCLUDE ("table", date), '
                f"CAST(date AS DATE) AS date FROM _arrow_{table}"
            )
    for stmt in filter(str.strip, WEEKLY_SQL.split(";")):
        con.execute(stmt)
    return con


def fleet_rows(
    con: duckdb.DuckDBPyConnection, sql: str = "SELECT * FROM weekly"
) -> list[dict[str, Any]]:
    """Rows of a query as dicts; NaN becomes None."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        d = {}
        for k, v in zip(names, row, strict=True):
            d[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        out.append(d)
    return out
