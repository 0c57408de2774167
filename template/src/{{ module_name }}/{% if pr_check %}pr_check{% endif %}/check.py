"""The pull-request model check, so the workflow YAML stays thin and the logic is plain, tested Python.

    python -m <package>.pr_check pr     train base and head on the CI subset, write the report
    python -m <package>.pr_check gate   exit 1 when the report's verdict is FAIL (and the gate blocks)
    python -m <package>.pr_check skip REASON   write a "skipped" report (fork PRs without secrets)
    python -m <package>.pr_check warm-cache   on main: run the CI-subset pipeline so its DVC run
                                              cache lets PR checks restore the base, not train it

The poster (.github/workflows/model-check-comment.yml) runs no project code: it checks the
artifact and calls `cml comment update` in a few lines of shell.

Inputs come from the environment (see each function); outputs go to $REPORT_DIR.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from .._internal.errors import PipelineError, run_stage
from .._internal.paths import (
    IMPORTANCE_PATH,
    LINEAGE_PATH,
    METRICS_PATH,
    PREDICTIONS_PATH,
    QUALITY_GATE_PATH,
    VALIDATION_REPORT_PATH,
)
from .._internal.threads import one_thread_env
from ..params import PARAMS_PATH

REPORT_DIR = Path(os.environ.get("REPORT_DIR", "pr-report"))
RUN_FILES = {  # file in the report folder: where the pipeline writes it
    "metrics.json": METRICS_PATH,
    "quality_gate.json": QUALITY_GATE_PATH,
    "predictions.csv": PREDICTIONS_PATH,
    "validation.json": VALIDATION_REPORT_PATH,
    "model.json": LINEAGE_PATH,
    "params.yaml": PARAMS_PATH,
}
# Written by newer pipelines only: a base commit from before they existed has none.
OPTIONAL_RUN_FILES = {"importance.csv": IMPORTANCE_PATH}


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise PipelineError(f"environment variable {name} is not set; the workflow must pass it")
    return value


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise PipelineError(f"git {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip()


def ci_overrides(project: Path) -> list[str]:
    """Every setting of head's params/data/ci.yaml, as overrides both commits accept (++).

    Head's, for both: base and head must train on the same subset even when the PR changes it.
    """
    ci_config = yaml.safe_load((project / "params/data/ci.yaml").read_text(encoding="utf-8")) or {}
    ci_config.pop("defaults", None)  # the data option it extends: each commit keeps its own

    def leaves(mapping: dict[str, Any], prefix: str) -> list[str]:
        found = []
        for key, value in mapping.items():
            if isinstance(value, dict):
                found += leaves(value, f"{prefix}{key}.")
            else:  # JSON is valid Hydra override syntax for strings, numbers, lists and null
                found.append(f"++{prefix}{key}={json.dumps(value)}")
        return found

    return leaves(ci_config, "data.")


def compose_ci_params(project: Path, overrides: list[str]) -> str | None:
    """Write `project`'s params.yaml with the CI overrides; None, or why it cannot.

    Sequential on purpose: Hydra's global state does not allow two compositions at once.
    """
    from ..compose_params import compose

    try:
        (project / "params.yaml").write_text(compose(overrides, project / "params"), encoding="utf-8")
    except Exception as error:  # a base whose params/ cannot take the overrides
        return f"cannot compose its params: {str(error).splitlines()[0]}"
    return None


def run_pipeline(project: Path, log_path: Path, cache_dir: Path) -> str | None:
    """`dvc repro` in `project` with its own code and the shared cache; None or the error."""
    venv_bin = Path(sys.executable).parent
    # Base and head run side by side: one thread each (_internal/threads.py).
    run_env = {
        **one_thread_env(),
        # The project's own code, not the installed head package: base runs base's code.
        "PYTHONPATH": str(project / "src"),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
    }
    # With a DVC remote, the base's data version may not be in the cache yet: fetch what is missing.
    has_remote = subprocess.run(
        ["dvc", "remote", "list"], cwd=project, env=run_env, capture_output=True, text=True, check=False
    ).stdout.strip()
    commands = [
        ["dvc", "cache", "dir", "--local", str(cache_dir)],
        ["dvc", "repro", *(["--pull"] if has_remote else [])],
    ]
    with log_path.open("w", encoding="utf-8") as log:
        for command in commands:
            done = subprocess.run(command, cwd=project, env=run_env, stdout=log, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                lines = log_path.read_text(encoding="utf-8").strip().splitlines()
                # Our stages' one-line reason first; DVC's own "ERROR: failed to reproduce" otherwise.
                ours = [line for line in lines if line.startswith("error:")]
                dvcs = [line for line in lines if line.startswith("ERROR")]
                return (ours or dvcs or lines or ["no output"])[-1][:300]
    return None


def stages_run(log_path: Path) -> tuple[list[str], list[str]]:
    """From a `dvc repro` log: the stages that ran, and those DVC restored from its run cache."""
    text = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    ran = re.findall(r"Running stage '([^']+)'", text)
    return ran, re.findall(r"Stage '([^']+)' is cached - skipping run", text)


def how_it_ran(who: str, log_path: Path, cache_key: str) -> str:
    """One clause for the report: did this commit train, or come back from the run cache?

    `cache_key` is the actions/cache key main's train workflow saved (dvc-main-<sha>), if one
    was restored. evaluate always runs: its metrics are git-tracked (cache: false), which the
    run cache cannot restore.
    """
    ran, restored = stages_run(log_path)
    if "train" in restored:
        sha = cache_key.rsplit("-", 1)[-1][:7] if cache_key else ""
        source = f"main's run cache @{sha}" if sha else "the run cache"
        return f"{who} restored from {source} (ran only {', '.join(ran) or 'nothing'})"
    return f"{who} retrained ({', '.join(ran) or 'no stage ran'})"


def collect(project: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for name, source in RUN_FILES.items():
        shutil.copy2(project / source, destination / name)
    for name, source in OPTIONAL_RUN_FILES.items():
        if (project / source).exists():
            shutil.copy2(project / source, destination / name)
    size = (project / "models/model.skops").stat().st_size
    (destination / "model_size.json").write_text(json.dumps({"bytes": size}), encoding="utf-8")


def raw_drift(base_project: Path, head_project: Path, head_params: dict):
    """Column shifts between base and head raw data, or None when the files are identical."""
    import pandas as pd

    from .._internal.files import file_md5
    from .._internal.shift import distribution_shift

    raw = head_params["data"]["raw_path"]
    if not (base_project / raw).exists() or file_md5(base_project / raw) == file_md5(head_project / raw):
        return None
    data = head_params["data"]
    return distribution_shift(
        pd.read_csv(base_project / raw),
        pd.read_csv(head_project / raw),
        data["numeric_features"],
        data["categorical_features"],
    )


def pr() -> None:
    """Env: BASE_SHA, HEAD_SHA, PR_NUMBER; optional BASE_REF, REPORT_DIR, GITHUB_STEP_SUMMARY."""
    from .report import ReportContext, RunResult, build_report, write_plots

    head_project = Path.cwd()
    head_sha, pr_number = env("HEAD_SHA"), env("PR_NUMBER")
    merge_base = git("merge-base", env("BASE_SHA"), head_sha)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    overrides = ci_overrides(head_project)
    cache_dir = head_project / ".dvc" / "cache"
    with tempfile.TemporaryDirectory(prefix="base-") as scratch:
        base_project = Path(scratch) / "base"
        git("worktree", "add", "--detach", "--quiet", str(base_project), merge_base)
        try:
            base_error = compose_ci_params(base_project, overrides)
            head_error = compose_ci_params(head_project, overrides)
            # Base and head in parallel, one process per core (estimators are single-threaded).
            with ThreadPoolExecutor(max_workers=2) as pool:
                base_job = None
                if base_error is None:
                    base_job = pool.submit(run_pipeline, base_project, REPORT_DIR / "base.log", cache_dir)
                if head_error is None:
                    head_error = pool.submit(run_pipeline, head_project, REPORT_DIR / "head.log", cache_dir).result()
                if base_job is not None:
                    base_error = base_job.result()
            if head_error:
                # Still a report (and a FAIL verdict) so the PR says what broke.
                headline = f"head `{head_sha[:7]}` did not run: {head_error}"
                report = f"## ❌ Model check: FAIL — {headline}\n\nSee `head.log` in the run's artifacts.\n"
                write_outputs(report, {"verdict": "FAIL", "headline": headline, "reasons": []}, pr_number, head_sha)
                return
            collect(head_project, REPORT_DIR / "head")
            head = RunResult.load(REPORT_DIR / "head")
            base = None
            if base_error is None:
                collect(base_project, REPORT_DIR / "base")
                base = RunResult.load(REPORT_DIR / "base")
            drift = raw_drift(base_project, head_project, head.params)
        finally:
            git("worktree", "remove", "--force", str(base_project))
    cache_key = os.environ.get("RUN_CACHE_KEY", "")
    runs = [how_it_ran("head", REPORT_DIR / "head.log", cache_key)]
    if base is not None:
        runs.insert(0, how_it_ran("base", REPORT_DIR / "base.log", cache_key))
    context = ReportContext(
        runs="; ".join(runs),
        base_sha=merge_base,
        head_sha=head_sha,
        base_ref=os.environ.get("BASE_REF") or "the base branch",
        base_error=None if base_error is None else f"base `{merge_base[:7]}` did not run: {base_error}",
        drift=drift,
        publish_plots=os.environ.get("PUBLISH_PLOTS", "false").lower() == "true",
    )
    write_plots(base, head, head.params["task"], REPORT_DIR / "plots.png")
    report, verdict = build_report(base, head, context)
    write_outputs(report, verdict.as_json(), pr_number, head_sha)


def warm_cache() -> None:
    """On main: the CI-subset pipeline, as a PR check's base would run it, to fill the run cache.

    The train workflow then saves .dvc/cache for pull requests to restore (actions/cache); only
    runs on main save it, so no PR can plant an entry another PR's base would restore.
    """
    project = Path.cwd()
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    error = compose_ci_params(project, ci_overrides(project)) or run_pipeline(
        project, REPORT_DIR / "warm-cache.log", project / ".dvc" / "cache"
    )
    if error:
        raise PipelineError(f"the CI-subset pipeline did not run: {error}")
    ran, restored = stages_run(REPORT_DIR / "warm-cache.log")
    done, cached = ", ".join(ran) or "nothing", ", ".join(restored) or "nothing"
    print(f"run cache warm for the CI subset: ran {done}; already cached {cached}")


def write_outputs(report: str, verdict: dict, pr_number: str, head_sha: str) -> None:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.md").write_text(report, encoding="utf-8")
    (REPORT_DIR / "verdict.json").write_text(json.dumps(verdict, indent=2), encoding="utf-8")
    (REPORT_DIR / "pr_number").write_text(pr_number, encoding="utf-8")
    (REPORT_DIR / "head_sha").write_text(head_sha, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(report)
    print(f"{verdict['verdict']}: {verdict['headline']}")


def skip(reason: str) -> None:
    """A run that cannot train (e.g. a fork PR without the data remote's secrets): say so, stay green."""
    report = f"## ⏭️ Model check: skipped — {reason}\n"
    verdict = {"verdict": "SKIPPED", "headline": reason, "reasons": []}
    write_outputs(report, verdict, env("PR_NUMBER"), env("HEAD_SHA"))


def gate() -> None:
    """Env: GATE_BLOCKS_MERGE (true/false). Exit 1 on a FAIL verdict when the gate blocks."""
    verdict_path = REPORT_DIR / "verdict.json"
    if not verdict_path.exists():
        raise PipelineError(f"no {verdict_path}: the model check did not finish (see the step above)")
    verdict = json.loads(verdict_path.read_text(encoding="utf-8"))
    blocks = os.environ.get("GATE_BLOCKS_MERGE", "true").lower() == "true"
    print(f"verdict {verdict['verdict']}: {verdict['headline']}")
    if verdict["verdict"] == "FAIL" and blocks:
        raise PipelineError(f"model check failed: {verdict['headline']}")


COMMANDS = {"pr": pr, "gate": gate, "warm-cache": warm_cache}


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "skip":
        skip(" ".join(sys.argv[2:]) or "no reason given")
    elif command in COMMANDS:
        COMMANDS[command]()
    else:
        raise PipelineError(f"usage: python -m {__package__} pr|gate|warm-cache|skip REASON (got {command!r})")


if __name__ == "__main__":
    run_stage(main)
