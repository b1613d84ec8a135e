"""Parquet exports open in every reader: pyarrow, DuckDB and Polars, with the session's metadata."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from spinewatch.sessions import SessionFile
from spinewatch.sessions.exports import export

TABLES = ("raw", "angles", "events")


@pytest.fixture(scope="module")
def exported(recorded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("pq") / "lift.parquet"  # a .parquet name is a folder too
    with SessionFile(recorded["path"]) as sf:
        export(sf, "parquet", out)
        expect = {
            "raw": sum(sf.summary().samples.values()),
            "angles": len(sf.angles()[0]),
            "events": len(sf.alerts()) + len(sf.reps()) + len(sf.markers()),
            "meta": sf.meta,
        }
    return {"out": out, "expect": expect}


def test_folder_holds_only_parquet_files(exported: dict[str, Any]) -> None:
    names = sorted(p.name for p in exported["out"].iterdir())
    assert names == [f"{t}.parquet" for t in sorted(TABLES)]


@pytest.mark.parametrize("table", TABLES)
def test_pyarrow_reads_every_table_and_its_metadata(exported: dict[str, Any], table: str) -> None:
    f = exported["out"] / f"{table}.parquet"
    t = pq.read_table(f)
    assert t.num_rows == exported["expect"][table]
    kv = pq.read_metadata(f).metadata
    assert kv[b"spinewatch.schema_version"] == b"2" and kv[b"spinewatch.table"] == table.encode()
    doc = json.loads(kv[b"spinewatch.session"])
    meta = exported["expect"]["meta"]
    assert doc["profile"] == meta["profile"] and doc["thresholds"] == meta["thresholds"]
    assert doc["sensors"]["rates_hz"] == meta["rates_hz"] and doc["name"] == "lift"
    assert set(doc["sensors"]["ids"]) == set(meta["profile"]["sensor_ids"])


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_every_table_and_its_metadata(exported: dict[str, Any], table: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    f = str(exported["out"] / f"{table}.parquet")
    con = duckdb.connect()
    (n,) = con.execute("SELECT COUNT(*) FROM read_parquet(?)", [f]).fetchone()
    assert n == exported["expect"][table]
    kv = dict(con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [f]).fetchall())
    assert json.loads(kv[b"spinewatch.session"])["schema_version"] == 2
    if table == "angles":
        (mx,) = con.execute("SELECT max(flexion_deg) FROM read_parquet(?)", [f]).fetchone()
        assert mx == pytest.approx(float(np.nanmax(pq.read_table(f)["flexion_deg"].to_numpy())))


@pytest.mark.parametrize("table", TABLES)
def test_polars_reads_every_table_and_its_metadata(exported: dict[str, Any], table: str) -> None:
    pl = pytest.importorskip("polars")
    f = exported["out"] / f"{table}.parquet"
    df = pl.read_parquet(f)
    assert df.height == exported["expect"][table]
    assert df.columns == pq.read_schema(f).names
    kv = pl.read_parquet_metadata(f)
    assert json.loads(kv["spinewatch.session"])["table"] == table
