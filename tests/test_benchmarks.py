"""The benchmark code cannot rot: a smoke bench (penguins and 100k rows, once each) into tmp_path.

No timing is asserted (the machine is shared; speed lives in benchmarks/RESULTS.md): the run must
finish, measure both sides of every size, and the pipeline and the bare script must agree.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from support.projects import GIT_IDENTITY, TEMPLATE_ROOT, TOOLS_BIN, outer_env_removed

pytestmark = pytest.mark.bench


def test_smoke_bench_measures_pipeline_and_bare_script(tmp_path):
    out = tmp_path / "out"
    env = outer_env_removed()
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), env["PATH"]])
    command = [
        sys.executable,
        TEMPLATE_ROOT / "benchmarks" / "run.py",
        "--smoke",
        "--work",
        tmp_path / "work",
    ]
    command += ["--out", out, "--copier", TOOLS_BIN / "copier"]
    done = subprocess.run(
        [str(c) for c in command],
        env={**env, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((out / "results.json").read_text())
    assert list(results["sizes"]) == ["penguins", "100k"]
    assert [entry["rows"] for entry in results["sizes"].values()] == [344, 100_000]
    for size, entry in results["sizes"].items():
        for side in ("pipeline", "bare"):
            assert entry[side]["seconds"] > 0 and entry[side]["rss_mib"] > 50, (size, side, entry[side])
        # Same data, split and params: the bare script is only a yardstick if it computes the same model.
        assert entry["same_metrics"], (size, entry)
        assert 0 < entry["metrics"]["log_loss"] < 0.3
    assert (tmp_path / "work" / "project" / "metrics" / "metrics.json").is_file()

    table = [
        line.split("|") for line in (out / "RESULTS.md").read_text().splitlines() if line.startswith("| ")
    ]
    rows = {cells[1].strip(): cells for cells in table if cells[1].strip() in ("penguins", "100k")}
    assert set(rows) == {"penguins", "100k"}
    for cells in rows.values():
        time_ratio, rss_ratio = float(cells[6]), float(cells[10])
        assert math.isfinite(time_ratio) and time_ratio > 0
        assert math.isfinite(rss_ratio) and rss_ratio > 0
    assert results["dvc_overhead"]["no_op_repro"]["seconds"] > 0
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
