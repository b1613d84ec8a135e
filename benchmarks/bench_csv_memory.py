"""Peak memory of reading raw CSVs relative to the file size (issue 17 item 7).

Three 50 MB files: a valid two-sensor recording, a sparse file (a header, then a hole of NUL
bytes, as ``truncate -s`` makes) and a sparse file without header. Each read runs in a fresh
process; the figure is the growth of its peak resident memory (VmHWM, reset after the
imports) over the resident memory before the read, divided by the file size. Linux only. Run 3× (median, range).

    uv run python -m benchmarks.bench_csv_memory
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.collect import machine, write_fragment

SIZE = 50 * 2**20
HEADER = b"time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
PROBE = """
import sys
from posture.rawcsv import read_raw_csv
from posture.errors import SpinewatchError


def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])


open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
base = kib("VmRSS:")
try:
    read_raw_csv(sys.argv[1])
    what = "read"
except SpinewatchError as exc:
    what = "refused: " + str(exc).split(": ", 1)[1][:60]
print((kib("VmHWM:") - base) * 1024, what)
"""


def make_valid(path: Path) -> None:
    from posture.rawcsv import write_raw_csv
    from posture.records import ImuBlock

    rng = np.random.default_rng(0)
    n = SIZE // 2 // 150  # about 150 bytes per row
    blocks = {}
    for role in ("lumbar", "thoracic"):
        t = np.arange(n) / 200.0
        acc = rng.normal(0, 1, (n, 3)) + [0, 0, 9.81]
        blocks[role] = ImuBlock(role, t, acc, rng.normal(0, 0.5, (n, 3)))
    write_raw_csv(path, blocks)


def make_sparse(path: Path, header: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(SIZE)


def measure(path: Path) -> tuple[list[float], str]:
    ratios, what = [], ""
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
        ).stdout.split(" ", 1)
        ratios.append(int(out[0]) / path.stat().st_size)
        what = out[1].strip()
    return ratios, what


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        files = {
            "valid two-sensor CSV": Path(d) / "valid.csv",
            "header + 50 MB hole (sparse)": Path(d) / "sparse_h.csv",
            "50 MB hole, no header": Path(d) / "sparse.csv",
        }
        make_valid(files["valid two-sensor CSV"])
        make_sparse(files["header + 50 MB hole (sparse)"], HEADER)
        make_sparse(files["50 MB hole, no header"], b"")
        for name, p in files.items():
            r, what = measure(p)
            rows.append(
                f"| {name} | {p.stat().st_size / 2**20:.0f} MB | {statistics.median(r):.2f}× "
                f"({min(r):.2f}–{max(r):.2f}) | {what} |"
            )
    text = "\n".join(
        [
            "## Raw CSV memory",
            "",
            "`uv run python -m benchmarks.bench_csv_memory` — peak memory growth of one",
            "`read_raw_csv` over the process baseline, as a multiple of the file size (3 runs in",
            f"fresh processes: median, range; {machine()}, a machine shared with other jobs).",
            "Issue 17 measured 6.5 GB for a 2 GB sparse file (3.3×) before the fix.",
            "",
            "| file | size | peak memory / file size | result |",
            "| --- | --- | --- | --- |",
            *rows,
        ]
    )
    write_fragment("csv_memory", text)
    print(text)


if __name__ == "__main__":
    main()
