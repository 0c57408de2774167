"""The rendered project's pipeline, run for real with DVC in the project's own venv."""

from __future__ import annotations

import csv
import json
import re

import yaml
from support.projects import Project

STAGES = ["validate", "prepare", "train", "evaluate"]


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def test_repro_writes_sane_metrics(reproduced: Project):
    metrics = json.loads((reproduced.path / "metrics/metrics.json").read_text())
    if reproduced.answer_set.task == "classification":
        assert set(metrics) == {"accuracy", "balanced_accuracy", "f1_macro", "log_loss"}
        assert metrics["balanced_accuracy"] >= 0.9
        assert 0 < metrics["log_loss"] < 0.3
    else:
        assert set(metrics) == {"rmse", "mae", "r2"}
        assert metrics["r2"] >= 0.7
        assert 100 < metrics["rmse"] < 450
    gate = json.loads((reproduced.path / "metrics/quality_gate.json").read_text())
    assert gate["passed"] is True
    assert gate["value"] == metrics[gate["metric"]]


def test_repro_keeps_per_row_predictions_and_lineage(reproduced: Project):
    with (reproduced.path / "reports/predictions.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 69
    row_ids = [int(row["row_id"]) for row in rows]
    assert len(set(row_ids)) == len(rows) and all(0 <= i < 344 for i in row_ids)
    lineage = json.loads((reproduced.path / "models/model.json").read_text())
    head = reproduced.run("git", "rev-parse", "HEAD").stdout.strip()
    assert lineage["git"] == {"commit": head, "dirty": False}
    assert lineage["params"]["model"]["name"] == reproduced.answer_set.model
    rows_used = lineage["rows"]
    assert rows_used["train_used"] == rows_used["train_available"]
    clean_rows = 344 if reproduced.answer_set.task == "classification" else 342  # 2 lack a mass
    assert rows_used["train_available"] + len(rows) == clean_rows
    lock = reproduced.path / "dvc.lock"
    assert list(json.loads(reproduced.run("python", "-c", LOCK_AS_JSON, lock).stdout)) == STAGES


LOCK_AS_JSON = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))['stages']))"


def test_lineage_model_md5_is_the_one_dvc_lock_records_and_importance_covers_every_feature(
    reproduced: Project,
):
    lock = json.loads(reproduced.run("python", "-c", LOCK_AS_JSON, reproduced.path / "dvc.lock").stdout)
    model_out = next(out for out in lock["train"]["outs"] if out["path"] == "models/model.skops")
    lineage = json.loads((reproduced.path / "models/model.json").read_text())
    assert lineage["model_md5"] == model_out["md5"]
    with (reproduced.path / "reports/importance.csv").open() as stream:
        importance = list(csv.DictReader(stream))
    params = yaml.safe_load((reproduced.path / "params.yaml").read_text())
    features = params["data"]["numeric_features"] + params["data"]["categorical_features"]
    assert sorted(row["feature"] for row in importance) == sorted(features)
    assert float(importance[0]["importance"]) > 0


def test_second_repro_runs_nothing(reproduced: Project):
    done = reproduced.run(reproduced.venv_bin / "dvc", "repro")
    assert stages_run(done.stdout) == []
    assert re.findall(r"Stage '(\w+)' didn't change, skipping", done.stdout) == STAGES


def test_model_param_change_reruns_train_and_evaluate_only(reproduced: Project):
    dvc = reproduced.venv_bin / "dvc"
    name, old, new = reproduced.answer_set.param_edit
    param_file = reproduced.path / "params" / "model" / name
    original = param_file.read_text()
    assert old in original
    compose = ["python", "-m", f"{reproduced.answer_set.module}.compose_params"]
    try:
        param_file.write_text(original.replace(old, new))
        reproduced.run(*compose)
        changed = reproduced.run(dvc, "repro")
        assert stages_run(changed.stdout) == ["train", "evaluate"]
    finally:
        param_file.write_text(original)
        reproduced.run(*compose)
        # Back to the committed params: train comes back from DVC's run cache; evaluate reruns
        # (its metrics are git-tracked, cache: false, so the run cache cannot restore them).
        reproduced.run(dvc, "repro")
    assert reproduced.run(dvc, "status").stdout.strip().endswith("Data and pipelines are up to date.")


def test_exp_run_composes_params_through_hydra(default_reproduced: Project):
    reproduced = default_reproduced
    dvc = reproduced.venv_bin / "dvc"
    status_before = reproduced.run("git", "status", "--porcelain").stdout
    reproduced.run(dvc, "exp", "run", "--temp", "--name", "shallow", "-S", "model.max_depth=2")
    shown = json.loads(reproduced.run(dvc, "exp", "show", "--json").stdout)
    experiments = [
        exp for commit in shown for exp in (commit.get("experiments") or []) if exp.get("name") == "shallow"
    ]
    assert experiments, "experiment 'shallow' not listed by dvc exp show"
    data = experiments[0]["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["model"]["max_depth"] == 2
    assert "log_loss" in data["metrics"]["metrics/metrics.json"]["data"]
    # The README's compare command: only what differs, no dependency hashes or timestamps.
    compared = reproduced.run(reproduced.venv_bin / "nox", "-s", "compare")
    header = next(line for line in compared.stdout.splitlines() if line.startswith("| Experiment"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert "model.max_depth" in columns and "log_loss" in columns, header
    assert not [c for c in columns if "/" in c or c in ("Created", "split.seed", "model._target_")], header
    # The workspace is untouched: --temp ran elsewhere.
    assert reproduced.run("git", "status", "--porcelain").stdout == status_before
