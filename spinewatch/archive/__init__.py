"""The team archive: every session in one Hive-partitioned Parquet dataset, fleet reports over
it with DuckDB, and re-analysis of everything on a Dask cluster.

* :mod:`.tables` — one session → the archive's tables (sessions, sets, reps, alerts, seconds,
  raw), as pyarrow tables; the shared definitions (time under load, rounded rep, sets, drift).
* :mod:`.dataset` — the archive on a local folder or an object store: partition layout,
  manifest, incremental and interrupt-safe writing.
* :mod:`.fleet` — DuckDB views over the archive and the per-wearer, per-week fleet report.
* :mod:`.fleethtml` — the self-contained HTML page of the fleet report.
* :mod:`.reanalyze` — re-running the engine over archived sessions, locally or on Dask.

pyarrow, DuckDB and Dask are imported by these modules; the commands import them only when
they run, so ``spinewatch --help`` stays fast. See docs/archive.md.
"""

from posture.errors import SpinewatchError

SCHEMA_VERSION = 1  # of the archive's tables and manifest
TABLES = ("sessions", "sets", "reps", "alerts", "seconds")  # derived; "raw" is optional


class ArchiveError(SpinewatchError):
    """The archive is missing, unreadable, too new, or an archive operation failed."""


__all__ = ["SCHEMA_VERSION", "TABLES", "ArchiveError"]
