"""Sweeps through `dvc exp` (Hydra overrides, queued, run by parallel workers) and picking the best.

    python -m <package>.data_tools.experiments sweep NAME [--jobs 2] [--extra OVERRIDE ...]
    python -m <package>.data_tools.experiments best            # table sorted by the primary metric
    python -m <package>.data_tools.experiments apply-best      # keep the best one (params/ edited)
    python -m <package>.data_tools.experiments keep NAME       # keep a named one

Named sweeps live in params/sweeps.yaml. Each queued experiment is a separate `dvc` worker
process; estimators are kept to one thread each (`_internal/threads.py`) so two workers
on two cores do not fight over them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from .._internal.errors import PipelineError, run_stage
from .._internal.paths import METRICS_PATH
from .._internal.threads import one_thread_env
from ..compose_params import main as recompose
from ..params import flat_params, load_params
from .keep_experiment import keep_settings

SWEEPS_PATH = Path("params/sweeps.yaml")
METRICS_FILE = METRICS_PATH.as_posix()  # how `dvc exp show --json` names it


def dvc(*args: str, capture: bool = False) -> str:
    done = subprocess.run(["dvc", *args], capture_output=capture, text=True, env=one_thread_env(), check=False)
    if done.returncode != 0:
        detail = (done.stderr or "").strip().splitlines()[-1:] if capture else []
        raise PipelineError(f"dvc {' '.join(args)} failed (exit {done.returncode}) {' '.join(detail)}".strip())
    return done.stdout if capture else ""


def sweep_overrides(name: str) -> list[str]:
    sweeps = yaml.safe_load(SWEEPS_PATH.read_text(encoding="utf-8")) or {}
    if name not in sweeps:
        raise PipelineError(f"{SWEEPS_PATH}: no sweep named '{name}'; known: {', '.join(sorted(sweeps))}")
    return list(sweeps[name])


def run_sweep(name: str, jobs: int = 2, extra: list[str] | None = None, timeout: float = 3600) -> None:
    """Queue the sweep's grid, run it with `jobs` workers, wait until the queue is empty."""
    overrides = [*sweep_overrides(name), *(extra or [])]
    dvc("exp", "run", "--queue", *(arg for override in overrides for arg in ("-S", override)))
    dvc("queue", "start", "--jobs", str(jobs))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = dvc("queue", "status", capture=True)
        if not any(word in status for word in ("Queued", "Running")):
            break
        time.sleep(2)
    else:
        raise PipelineError(f"sweep '{name}' did not finish within {timeout:.0f} s; see `dvc queue status`")
    dvc("queue", "stop")
    failed = [line for line in dvc("queue", "status", capture=True).splitlines() if "Failed" in line]
    if failed:
        raise PipelineError(f"{len(failed)} experiment(s) failed; see `dvc queue logs <name>`")


def experiments() -> list[dict[str, Any]]:
    """Every experiment of the workspace's commit: name, flat params and metrics."""
    found = []
    for commit in json.loads(dvc("exp", "show", "--json", capture=True)):
        for experiment in commit.get("experiments") or []:
            for revision in experiment.get("revs") or []:
                data = revision.get("data") or {}
                metrics = ((data.get("metrics") or {}).get(METRICS_FILE) or {}).get("data")
                params = ((data.get("params") or {}).get("params.yaml") or {}).get("data")
                if metrics and params:
                    found.append(
                        {"name": experiment.get("name") or revision["rev"], "params": params, "metrics": metrics}
                    )
    return found


def ranked(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first by the primary metric of the quality bar (direction-aware)."""
    bar = load_params().evaluate
    sign = 1 if bar.direction == "lower" else -1
    return sorted(found, key=lambda e: sign * e["metrics"][bar.primary_metric])


def changed_keys(found: list[dict[str, Any]]) -> list[str]:
    """Params whose value differs between the experiments shown; the rest is noise on a wide table.

    `_target_` and `trusted_types` follow from `model.name`, so they are left out too.
    """
    flats = [flat_params(experiment["params"]) for experiment in found]
    keys = sorted({key for params in flats for key in params})
    return [
        key
        for key in keys
        if not key.endswith(("._target_", ".trusted_types"))
        and len({json.dumps(params.get(key), sort_keys=True) for params in flats}) > 1
    ]


def table(found: list[dict[str, Any]]) -> str:
    """Ranked experiments: the primary metric, the other metrics, and only the params that differ."""
    bar = load_params().evaluate
    keys = changed_keys(found)
    lines = [
        f"| experiment | {bar.primary_metric} ({bar.direction} is better) | other metrics | what differs |",
        "|---|---:|---|---|",
    ]
    for experiment in ranked(found):
        params = flat_params(experiment["params"])
        settings = ", ".join(f"{key}={params.get(key, '-')}" for key in keys)
        others = ", ".join(
            f"{name}={value:.4g}" for name, value in sorted(experiment["metrics"].items()) if name != bar.primary_metric
        )
        value = experiment["metrics"][bar.primary_metric]
        lines.append(f"| {experiment['name']} | {value:.4f} | {others} | {settings} |")
    return "\n".join(lines)


def keep(experiment: dict[str, Any]) -> str:
    """Make `experiment` the project's settings: params/ edited, params.yaml recomposed.

    Trained on all the data, its outputs come too (`dvc exp apply`), so params/, params.yaml,
    dvc.lock and the metrics agree. Trained on the CI subset, only its settings are kept: main
    trains on all the data, so `dvc repro` has to run.
    """
    name = experiment["name"]
    on_subset = experiment["params"]["data"]["subset"]["fraction"] < 1
    if not on_subset:
        dvc("exp", "apply", name)
    changed = keep_settings(experiment["params"], name)
    recompose([])
    edited = ", ".join(path.as_posix() for path in changed) or "nothing (params/ already says so)"
    then = (
        "it trained on the CI subset: run `dvc repro` to train it on all the data, then commit"
        if on_subset
        else "review `git diff`, then commit params/, params.yaml, dvc.lock and metrics/"
    )
    return f"kept {name}: edited {edited}; {then}"


def by_name(name: str) -> dict[str, Any]:
    found = {experiment["name"]: experiment for experiment in experiments()}
    if name not in found:
        raise PipelineError(f"no experiment named {name!r} with metrics; known: {', '.join(sorted(found)) or 'none'}")
    return found[name]


def apply_best() -> str:
    found = experiments()
    if not found:
        raise PipelineError("no experiments with metrics; run a sweep first")
    return keep(ranked(found)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("sweep")
    sweep.add_argument("name")
    sweep.add_argument("--jobs", type=int, default=2)
    sweep.add_argument("--extra", nargs="*", default=[], help="more -S overrides, e.g. data=ci")
    commands.add_parser("best")
    commands.add_parser("apply-best")
    keep_one = commands.add_parser("keep", help="make one experiment the project's settings (params/)")
    keep_one.add_argument("name")
    args = parser.parse_args()
    if args.command == "sweep":
        run_sweep(args.name, args.jobs, args.extra)
        print(table(experiments()))
    elif args.command == "best":
        print(table(experiments()))
    elif args.command == "keep":
        print(keep(by_name(args.name)))
    else:
        print(apply_best())


if __name__ == "__main__":
    run_stage(main)
