"""`relsim analyze` on a 10,000-simulation run: wall time (target ≤ 2 s) and peak memory, as a
new process (imports included) like a user meets it; also `relsim report` size at 1,000.

The first analysis of a finished run reads its log and leaves its tables in the run's
``.analysis-cache/`` (engine/analysis/cache.py); later ones read those. Both are timed: the
cold first run (cache removed before each) and the warm ones, each three times.

    python -m pytest tests/perf/bench_analyze.py -s      Knob: RELSIM_BENCH_SIMS (10000)
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.analysis.cache import DIR
from tests.perf.bench_reader import SIMS, write_run

TARGET_S = 2.0
# Peak RSS in KiB: VmHWM of this process's own memory. Not ru_maxrss, which a child started by
# vfork (Python's subprocess) inherits from its parent at exec: here the benchmark's process,
# hundreds of MB after writing the run.
PEAK = ("import resource, runpy, sys; sys.argv = ['relsim', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('engine.cli', run_name='__main__')\n"
        "finally:\n"
        "    try:\n"
        "        hwm = [int(line.split()[1]) for line in open('/proc/self/status')\n"
        "               if line.startswith('VmHWM:')][0]\n"
        "    except (OSError, IndexError):\n"
        "        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    print(hwm, file=sys.stderr)")


def analyze(run_dir: Path, *args: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, "analyze", str(run_dir), *args],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert "Mean commitment" in done.stdout or args
    return wall, int(done.stderr.strip().splitlines()[-1])


def test_analyze_a_large_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = asyncio.run(write_run(tmp))
        size_mb = (run_dir / "events.jsonl").stat().st_size / 1e6
        cold = []
        for _ in range(3):
            shutil.rmtree(run_dir / DIR, ignore_errors=True)
            cold.append(analyze(run_dir, "--by", "all"))
        results = {"all (cold: log read)": cold}
        results.update({by: [analyze(run_dir, "--by", by) for _ in range(3)]
                        for by in ("all", "attachment-pair", "persona")})
        for by, runs in results.items():
            walls = [w for w, _ in runs]
            peak = max(p for _, p in runs) / 1024
            print(f"\nanalyze --by {by}: {SIMS:,} simulations, events.jsonl {size_mb:.0f} MB: "
                  f"wall median {statistics.median(walls):.2f} s, worst {max(walls):.2f} s "
                  f"(runs {', '.join(f'{w:.2f}' for w in walls)}), peak RSS {peak:.0f} MB "
                  f"(target ≤ {TARGET_S:g} s)")
        assert max(w for runs in results.values() for w, _ in runs) <= TARGET_S  # cold too


def test_report_size_for_1000() -> None:
    import tests.perf.bench_reader as br

    saved = br.SIMS
    br.SIMS = 1000
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = asyncio.run(write_run(tmp))
            out = Path(tmp) / "report.html"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "engine.cli", "report", str(run_dir), "-o",
                            str(out)], check=True, capture_output=True)
            print(f"\nreport of 1,000 simulations: {out.stat().st_size / 1e6:.2f} MB, written "
                  f"in {time.perf_counter() - start:.2f} s")
    finally:
        br.SIMS = saved
