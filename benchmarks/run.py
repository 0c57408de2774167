"""Benchmark the rendered pipeline against the bare script; write RESULTS.md and a plot.

    python benchmarks/run.py [--smoke] [--out benchmarks] [--work DIR] [--copier copier]

Renders the template (model=hist_gradient_boosting, classification), then for each size N
(penguins, 100k, 1M, 10M; --smoke: penguins and 100k) writes N synthetic rows as the project's
raw data and measures, alternately and repeated, (a) `dvc repro` from a clean state (no lock,
outputs or DVC cache) and (b) benchmarks/bare.py: wall time and peak RSS. The full run adds
no-op `dvc repro` (against a one-stage DVC repo), `dvc status`, the pull-request subset run,
a 4-point sweep with -j 1 and -j 2, and the locked install from a warm uv cache.

Peak RSS is the largest resident set of any one process in the measured command's tree: the
`ru_maxrss` that wait4() reports for a child, which covers the child and every descendant it
waited for (each DVC stage process). Needs only the standard library; the plot is drawn by
re-running this file with the project's Python (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE_ROOT = HERE.parent
MODULE = "penguins_model"
SIZES = {"penguins": None, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
# Fewer repeats where one run takes minutes (RESULTS.md lists the repeats of each size).
REPEATS = {"penguins": 3, "100k": 2, "1M": 2, "10M": 1}
SMOKE_SIZES = ("penguins", "100k")
OUTPUTS = (
    "dvc.lock",
    "data/validated",
    "data/prepared",
    "models",
    "metrics",
    "reports",
    ".dvc/cache",
    ".dvc/tmp",
)
# Stage outputs DVC caches (dvc.yaml); git must not track them.
CACHED_OUTPUTS = ("data/validated", "data/prepared", "models", "reports")
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SWEEP = ["model.learning_rate=0.05,0.1,0.2,0.3"]
# Set by nox and venvs; they would point uv and python at the wrong environment.
OUTER_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "CONDA_PREFIX")


def queue_workers(project: Path) -> list[int]:
    """Process ids of DVC queue workers (`dvc exp queue-worker`) running for `project`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            in_project = Path(os.readlink(entry / "cwd")).is_relative_to(project)
        except OSError:  # the process ended while we looked
            continue
        if b"queue-worker" in command and in_project:
            found.append(int(entry.name))
    return found


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OUTER_ENV}


class Bench:
    """One rendered project, the raw data it was rendered with, and the results collected so far."""

    def __init__(self, project: Path, results_path: Path) -> None:
        self.project = project.resolve()
        self.bin = self.project / ".venv" / "bin"
        self.results_path = results_path
        self.results: dict = json.loads(results_path.read_text()) if results_path.exists() else {}
        self.current_size = "penguins"
        self.seed_csv = project.parent / "penguins.csv"
        if not self.seed_csv.exists():
            shutil.copy2(project / "data/raw/penguins.csv", self.seed_csv)

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env()
        return {**env, "PATH": f"{self.bin}{os.pathsep}{env['PATH']}", **extra}

    def measure(self, *command: str | Path, cwd: Path | None = None, **env: str) -> dict[str, float]:
        """Run `command`; its wall time and the peak RSS (MiB) of its process tree. Fails loudly."""
        log = (cwd or self.project).parent / "last-command.log"
        with log.open("w") as stream:
            started = time.perf_counter()
            process = subprocess.Popen(
                [str(c) for c in command],
                cwd=cwd or self.project,
                env=self.env(**env),
                stdout=stream,
                stderr=stream,
            )
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"error: {' '.join(map(str, command))} exited {process.returncode}; see {log}")
        return {"seconds": round(seconds, 3), "rss_mib": round(usage.ru_maxrss / 1024, 1)}

    def save(self) -> None:
        self.results_path.write_text(json.dumps(self.results, indent=2) + "\n")

    def write_raw(self, size: str) -> int:
        """The project's raw data: the real penguins, or `size` synthetic rows; returns the row count."""
        self.current_size = size
        raw = self.project / "data/raw/penguins.csv"
        rows = SIZES[size]
        if rows is None:
            shutil.copy2(self.seed_csv, raw)
        else:
            generate = [self.bin / "python", HERE / "generate.py", self.seed_csv, str(rows), raw]
            subprocess.run([str(c) for c in generate], check=True, env=self.env())
        with raw.open("rb") as stream:
            return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 24), b"")) - 1

    def clean_state(self) -> None:
        for name in OUTPUTS:
            path = self.project / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def compare_size(self, size: str, repeats: int) -> None:
        """(a) dvc repro from a clean state and (b) the bare script, alternating, `repeats` times."""
        rows = self.write_raw(size)
        runs: dict[str, list[dict]] = {"pipeline": [], "bare": []}
        bare_metrics = self.project.parent / "bare-metrics.json"
        for repeat in range(repeats):
            order = ("pipeline", "bare") if repeat % 2 == 0 else ("bare", "pipeline")
            for side in order:
                if side == "pipeline":
                    self.clean_state()
                    runs[side].append(self.measure(self.bin / "dvc", "repro"))
                else:
                    bare = [self.bin / "python", HERE / "bare.py", self.project, bare_metrics]
                    runs[side].append(self.measure(*bare))
                print(f"{size} repeat {repeat + 1}/{repeats} {side}: {runs[side][-1]}", flush=True)
        pipeline_metrics = json.loads((self.project / "metrics/metrics.json").read_text())
        self.results.setdefault("sizes", {})[size] = {
            "rows": rows,
            "repeats": repeats,
            "runs": runs,
            "pipeline": median_of(runs["pipeline"]),
            "bare": median_of(runs["bare"]),
            "same_metrics": pipeline_metrics == json.loads(bare_metrics.read_text()),
            "metrics": pipeline_metrics,
        }
        self.save()

    def no_op_and_status(self, size: str, repeats: int = 5) -> None:
        """`dvc repro` with nothing to do and `dvc status` on `size` rows, vs a one-stage repo."""
        dvc = self.bin / "dvc"
        self.measure(dvc, "repro")  # up to date first (usually it already is)
        one_stage = self.project.parent / "one-stage"
        if not one_stage.exists():
            one_stage.mkdir()
            for command in (["git", "init", "-q"], [dvc, "init", "-q"]):
                subprocess.run([str(c) for c in command], cwd=one_stage, check=True, env=self.env())
            (one_stage / "input.txt").write_text("x\n")
            stage = [
                "stage",
                "add",
                "-q",
                "-n",
                "copy",
                "-d",
                "input.txt",
                "-o",
                "output.txt",
                "cp input.txt output.txt",
            ]
            subprocess.run([str(dvc), *stage], cwd=one_stage, check=True, env=self.env())
            self.measure(dvc, "repro", cwd=one_stage)
        timings = {
            "no_op_repro": [self.measure(dvc, "repro") for _ in range(repeats)],
            "one_stage_no_op_repro": [self.measure(dvc, "repro", cwd=one_stage) for _ in range(repeats)],
            "status": [self.measure(dvc, "status") for _ in range(repeats)],
        }
        self.results["dvc_overhead"] = {
            "size": size,
            **{name: median_of(runs) for name, runs in timings.items()},
        }
        self.save()

    def commit_raw(self) -> None:
        """Queued experiments and the PR check's base see only committed files.

        Commits what a user would (data, params, dvc.lock), never DVC-cached stage outputs: after
        stages ran without DVC (the stage breakdown) they have no .gitignore entries yet.
        """
        for command in (
            ["git", "rm", "-r", "-q", "--cached", "--ignore-unmatch", *CACHED_OUTPUTS],
            ["git", "add", "--all", "--", ".", *(f":(exclude){path}" for path in CACHED_OUTPUTS)],
            ["git", "commit", "-q", "--allow-empty", "-m", "bench data"],
        ):
            subprocess.run(command, cwd=self.project, check=True, env=self.env(), capture_output=True)

    def pr_subset(self, size: str) -> None:
        """`ci pr`: base and head (same commit here) trained on the CI subset, two in parallel."""
        if self.current_size != size:
            self.write_raw(size)
        self.commit_raw()
        self.clean_state()
        report_dir = self.project.parent / "pr-report"
        shutil.rmtree(report_dir, ignore_errors=True)
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=self.project, capture_output=True, text=True, check=False
        )
        sha = head.stdout.strip()
        ci = dict(BASE_SHA=sha, HEAD_SHA=sha, PR_NUMBER="0", REPORT_DIR=str(report_dir), **SINGLE_THREADED)
        result = self.measure(self.bin / "python", "-m", f"{MODULE}.pr_check", "pr", **ci)
        subprocess.run(["git", "checkout", "params.yaml"], cwd=self.project, check=True)
        self.results["pr_subset"] = {"size": size, **result}
        self.save()

    def sweep(self, size: str) -> None:
        """The same 4 queued experiments with 1 and 2 workers; estimators single-threaded in both.

        As a user sweeps: from a reproduced, committed workspace, so each experiment runs what its
        params change (train, evaluate) and checks out the rest. The run cache is emptied before
        each measurement, so no experiment is restored from an earlier one.
        """
        if self.current_size != size:
            self.write_raw(size)
        dvc = self.bin / "dvc"
        self.clean_state()
        subprocess.run([str(dvc), "repro", "-q"], cwd=self.project, env=self.env(), check=True)
        self.commit_raw()
        timings = {}
        for jobs in (1, 2):
            for command in (["queue", "remove", "--all"], ["exp", "remove", "--all-commits"]):
                subprocess.run(
                    [str(dvc), *command], cwd=self.project, env=self.env(), capture_output=True, check=False
                )
            shutil.rmtree(self.project / ".dvc/cache/runs", ignore_errors=True)
            queue = [a for override in SWEEP for a in ("-S", override)]
            subprocess.run(
                [str(dvc), "exp", "run", "--queue", *queue], cwd=self.project, env=self.env(), check=True
            )
            timings[f"j{jobs}"] = self.measure(dvc, "queue", "start", "--jobs", str(jobs), **SINGLE_THREADED)
            started = time.perf_counter()
            # `queue start` returns at once; the workers run on and exit when the queue is empty.
            # Watching /proc costs nothing, where polling `dvc queue status` would take a core.
            while queue_workers(self.project):
                time.sleep(0.2)
            timings[f"j{jobs}"]["seconds"] = round(
                timings[f"j{jobs}"]["seconds"] + time.perf_counter() - started, 3
            )
            status = subprocess.run(
                [str(dvc), "queue", "status"],
                cwd=self.project,
                capture_output=True,
                text=True,
                env=self.env(),
                check=False,
            ).stdout
            if "Success" not in status or any(word in status for word in ("Failed", "Queued", "Running")):
                raise SystemExit(f"error: the sweep did not finish cleanly with -j {jobs}:\n{status}")
            print(f"sweep -j {jobs}: {timings[f'j{jobs}']}", flush=True)
        self.results["sweep"] = {"size": size, "points": 4, "from": "reproduced workspace", **timings}
        self.save()

    def stages(self, size: str) -> None:
        """Where the time goes: each stage run alone (`python -m`), and the bare script's steps."""
        if self.current_size != size:
            self.write_raw(size)
        self.clean_state()
        pipeline = {}
        for stage in ("validate", "prepare", "train", "evaluate"):
            pipeline[stage] = self.measure(self.bin / "python", "-m", f"{MODULE}.{stage}")
        bare_metrics = self.project.parent / "bare-metrics.json"
        bare = self.measure(self.bin / "python", HERE / "bare.py", self.project, bare_metrics)
        log = (self.project.parent / "last-command.log").read_text().splitlines()
        steps = next(json.loads(line)["bare_steps"] for line in log if line.startswith('{"bare_steps"'))
        self.results["stages"] = {"size": size, "pipeline": pipeline, "bare": {"total": bare, "steps": steps}}
        self.save()

    def install(self, repeats: int = 3) -> None:
        """`uv sync --locked --compile-bytecode` into a fresh venv, uv's cache already warm."""
        venv = self.project.parent / "install-venv"
        runs = []
        for _ in range(repeats):
            shutil.rmtree(venv, ignore_errors=True)
            sync = ["uv", "sync", "--locked", "--compile-bytecode", "--quiet"]
            runs.append(self.measure(*sync, UV_PROJECT_ENVIRONMENT=str(venv)))
        shutil.rmtree(venv, ignore_errors=True)
        self.results["install"] = median_of(runs)
        self.save()


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def render(work: Path, copier: str) -> Path:
    project = work / "project"
    if project.exists():
        shutil.rmtree(project)
    command = [
        copier,
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "HEAD",
        "--data",
        "model=hist_gradient_boosting",
    ]
    done = subprocess.run(
        [*command, str(TEMPLATE_ROOT), str(project)],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    if done.returncode != 0 or not (project / ".venv").is_dir():
        raise SystemExit(
            f"error: rendering the project failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return project


def machine(bench: Bench) -> dict[str, str]:
    def output(*command: str | Path) -> str:
        done = subprocess.run(
            [str(c) for c in command], capture_output=True, text=True, env=bench.env(), check=False
        )
        return done.stdout.strip()

    memory = next(
        line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    versions = output(bench.bin / "python", "-c", VERSIONS)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "memory": f"{int(memory.split()[1]) / 1024**2:.1f} GiB",
        "os": platform.platform(),
        "versions": versions,
        "load": output("uptime"),
    }


VERSIONS = (
    "import importlib.metadata as m, platform; print(', '.join([f'python {platform.python_version()}'] + "
    "[f'{n} {m.version(n)}' for n in ('dvc', 'pandas', 'pyarrow', 'pandera', 'scikit-learn', 'numpy')]))"
)


def ratio(pipeline: float, bare: float) -> float:
    return round(pipeline / bare, 2) if bare else float("nan")


def table_rows(results: dict) -> list[dict]:
    rows = []
    for size, entry in results.get("sizes", {}).items():
        pipeline, bare = entry["pipeline"], entry["bare"]
        rows.append(
            {
                "size": size,
                "rows": entry["rows"],
                "repeats": entry["repeats"],
                "pipeline_s": pipeline["seconds"],
                "bare_s": bare["seconds"],
                "time_ratio": ratio(pipeline["seconds"], bare["seconds"]),
                "overhead_s": round(pipeline["seconds"] - bare["seconds"], 2),
                "pipeline_rss": pipeline["rss_mib"],
                "bare_rss": bare["rss_mib"],
                "rss_ratio": ratio(pipeline["rss_mib"], bare["rss_mib"]),
                "same_metrics": entry["same_metrics"],
            }
        )
    return rows


def write_results(results: dict, out: Path, smoke: bool) -> Path:
    """RESULTS.md from the results JSON: regenerated by every run, never edited by hand."""
    machine_info = results["machine"]
    lines = [
        "# Benchmark results" + (" (smoke run)" if smoke else ""),
        "",
        "Generated by `nox -s bench` (benchmarks/run.py); do not edit by hand.",
        "",
        f"- Date: {machine_info['date']}",
        f"- Machine: {machine_info['cpu']}, {machine_info['memory']} RAM, {machine_info['os']}",
        f"- Versions: {machine_info['versions']}",
        f"- Load before the run: `{machine_info['load']}`",
        f"- Load after the run: `{machine_info.get('load_after', '')}`",
        "- Workload: hist_gradient_boosting classification with the params in `params/`, schema",
        "  validation, split, fit, metrics. Pipeline = `dvc repro` from a clean state (no dvc.lock,",
        "  outputs or DVC cache); bare = `benchmarks/bare.py`, the same work in one process. Medians of",
        "  the repeats; peak RSS is the largest single process of each command's tree (wait4",
        "  `ru_maxrss`, which covers every DVC stage process).",
        "",
        "| data | rows | repeats | pipeline s | bare s | time ratio | overhead s "
        "| pipeline RSS MiB | bare RSS MiB | RSS ratio | same metrics |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    if note := results.get("note"):
        lines[4:4] = [note, ""]
    for row in table_rows(results):
        cells = [
            row["size"],
            f"{row['rows']:,}",
            row["repeats"],
            f"{row['pipeline_s']:.1f}",
            f"{row['bare_s']:.1f}",
            f"{row['time_ratio']:.2f}",
            f"{row['overhead_s']:.1f}",
            f"{row['pipeline_rss']:.0f}",
            f"{row['bare_rss']:.0f}",
            f"{row['rss_ratio']:.2f}",
            "yes" if row["same_metrics"] else "no",
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    extra = []
    if overhead := results.get("dvc_overhead"):
        no_op, one_stage = overhead["no_op_repro"]["seconds"], overhead["one_stage_no_op_repro"]["seconds"]
        extra += [
            f"| no-op `dvc repro` ({overhead['size']}) | {no_op:.2f} s |",
            f"| no-op `dvc repro`, one-stage DVC repo | {one_stage:.2f} s "
            f"(ratio {ratio(no_op, one_stage):.2f}) |",
            f"| `dvc status` ({overhead['size']}) | {overhead['status']['seconds']:.2f} s |",
        ]
    if pr := results.get("pr_subset"):
        extra.append(
            f"| PR check `ci pr`, base + head on the CI subset ({pr['size']}) "
            f"| {pr['seconds']:.1f} s, peak RSS {pr['rss_mib']:.0f} MiB |"
        )
    if sweep := results.get("sweep"):
        j1, j2 = sweep["j1"]["seconds"], sweep["j2"]["seconds"]
        points = f"{sweep['points']}-point sweep"
        start = f", from a {sweep['from']}" if "from" in sweep else ""
        extra += [
            f"| {points}, `-j 1` ({sweep['size']}, single-threaded estimators{start}) | {j1:.1f} s |",
            f"| {points}, `-j 2` | {j2:.1f} s (speed-up {ratio(j1, j2):.2f}x) |",
        ]
    if install := results.get("install"):
        extra.append(
            "| locked install, warm uv cache (`uv sync --locked --compile-bytecode`) "
            f"| {install['seconds']:.1f} s |"
        )
    if extra:
        lines += ["", "| measurement | median |", "|---|---:|", *extra]
    if stages := results.get("stages"):
        lines += stage_table(stages, results.get("sizes", {}).get(stages["size"]))
    lines += ["", "![time vs rows](bench.png)", ""]
    results_md = out / "RESULTS.md"
    results_md.write_text("\n".join(lines))
    return results_md


def stage_table(stages: dict, size_entry: dict | None) -> list[str]:
    """Each stage alone vs the bare script's steps; what is left of `dvc repro` is DVC's own work."""
    pipeline, bare = stages["pipeline"], stages["bare"]
    stage_sum = sum(run["seconds"] for run in pipeline.values())
    step_sum = sum(bare["steps"].values())
    lines = [
        "",
        f"Where the time goes at {stages['size']} rows (one run of each stage alone, `python -m`; "
        "bare script's steps from its own clock):",
        "",
        "| pipeline stage | s | peak RSS MiB | | bare step | s |",
        "|---|---:|---:|---|---|---:|",
    ]
    steps = list(bare["steps"].items())
    for index, (stage, run) in enumerate(pipeline.items()):
        step, seconds = steps[index] if index < len(steps) else ("", None)
        shown = f"{seconds:.1f}" if seconds is not None else ""
        lines.append(f"| {stage} | {run['seconds']:.1f} | {run['rss_mib']:.0f} | | {step} | {shown} |")
    for step, seconds in steps[len(pipeline) :]:
        lines.append(f"| | | | | {step} | {seconds:.1f} |")
    startup = bare["total"]["seconds"] - step_sum
    lines.append(f"| sum of stages | {stage_sum:.1f} | | | interpreter start + imports | {startup:.1f} |")
    if size_entry:
        # Measured at another moment than the table above: on a shared machine this difference is noise-prone.
        dvc_share = size_entry["pipeline"]["seconds"] - stage_sum
        lines.append(f"| `dvc repro` (median above) minus the stages | {dvc_share:.1f} | | | | |")
    return lines


def plot(results_path: Path, png: Path) -> None:
    """Time vs rows, pipeline and bare, log-log (run with the project's Python: matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table_rows(json.loads(results_path.read_text()))
    figure, axis = plt.subplots(figsize=(6, 4))
    for key, label in (("pipeline_s", "dvc repro (pipeline)"), ("bare_s", "bare script")):
        axis.plot([r["rows"] for r in rows], [r[key] for r in rows], marker="o", label=label)
    axis.set(xscale="log", yscale="log", xlabel="rows", ylabel="wall time (s, median)", title="Time vs rows")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(png, dpi=100)


def report(bench: Bench, out: Path, smoke: bool) -> Path:
    """RESULTS.md and the plot from what is measured so far (written after every step)."""
    load_after = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    bench.results["machine"]["load_after"] = load_after
    bench.save()
    results_md = write_results(bench.results, out, smoke)
    plot_command = [bench.bin / "python", __file__, "plot", bench.results_path, out / "bench.png"]
    subprocess.run([str(c) for c in plot_command], check=True)
    return results_md


EXTRAS = ("no-op", "install", "stages", "pr", "sweep")


def main() -> None:
    if sys.argv[1:2] == ["plot"]:
        plot(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="penguins and 100k rows, 1 repeat, no-op repro only"
    )
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md, bench.png, results.json go")
    parser.add_argument("--work", type=Path, default=TEMPLATE_ROOT / ".bench", help="scratch folder")
    parser.add_argument("--copier", default=shutil.which("copier") or "copier")
    parser.add_argument("--sizes", nargs="*", choices=list(SIZES), help="only these sizes")
    parser.add_argument("--extras", nargs="*", choices=EXTRAS, help="only these extra measurements")
    parser.add_argument("--resume", action="store_true", help="keep results.json and the rendered project")
    parser.add_argument("--note", help="a paragraph for RESULTS.md (kept in results.json), e.g. about load")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite RESULTS.md and the plot, measure nothing"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    if not (args.resume or args.report_only):
        results_path.unlink(missing_ok=True)
    project = args.work / "project"
    if args.report_only:
        bench = Bench(project, results_path)
        if args.note is not None:
            bench.results["note"] = args.note
            bench.save()
        write_results(bench.results, args.out, args.smoke)
        plot_command = [bench.bin / "python", __file__, "plot", results_path, args.out / "bench.png"]
        subprocess.run([str(c) for c in plot_command], check=True)
        return
    if not (args.resume and project.exists()):
        project = render(args.work, args.copier)
    bench = Bench(project, results_path)
    bench.results.setdefault("machine", machine(bench))
    if args.note is not None:
        bench.results["note"] = args.note
    sizes = SMOKE_SIZES if args.smoke else list(SIZES)
    sizes = args.sizes if args.sizes is not None else sizes
    # Sizes first (the table), then the extras, cheapest first; RESULTS.md is rewritten after each.
    for size in sizes:
        bench.compare_size(size, 1 if args.smoke else REPEATS[size])
        report(bench, args.out, args.smoke)
    extras = ("no-op",) if args.smoke else EXTRAS
    extras = args.extras if args.extras is not None else extras
    steps = {
        "no-op": lambda: bench.no_op_and_status(bench.current_size, repeats=1 if args.smoke else 5),
        "install": bench.install,
        "stages": lambda: bench.stages("1M"),
        "pr": lambda: bench.pr_subset("1M"),
        "sweep": lambda: bench.sweep("1M"),
    }
    for extra in extras:
        steps[extra]()
        print(f"{extra}: done", flush=True)
        report(bench, args.out, args.smoke)
    print(f"wrote {args.out / 'RESULTS.md'} and {args.out / 'bench.png'}")


if __name__ == "__main__":
    main()
