"""Every pairwise combination of the main answers renders, passes ruff and gives a valid DVC DAG.

The full product is 2 tasks x 3 models x 6 remotes x 2^7 = 4608 projects; a greedy pairwise
cover needs less than a tenth of that and still puts every value of every answer next to every value
of every other answer. Renders skip the setup task (no venv per combination): ruff comes from the
test venv and dvc from the default project's venv. Full setups and `dvc repro` run for the answer
sets in support.projects.ANSWER_SETS.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess

import pytest
from support.projects import TOOLS_BIN, Project, render

MODELS = {
    "classification": ["logistic_regression", "random_forest", "hist_gradient_boosting"],
    "regression": ["ridge", "random_forest", "hist_gradient_boosting"],
}
REMOTES = {
    "none": None,
    "local": "/srv/dvc-storage/project",
    "s3": "s3://bucket/project",
    "gcs": "gs://bucket/project",
    "azure": "azure://container/project",
    "ssh": "ssh://user@host.example/srv/dvc",
}
FACTORS = {
    "task": ["classification", "regression"],
    "model": sorted({m for models in MODELS.values() for m in models}),
    "data_remote": list(REMOTES),
    "gate_blocks_merge": ["true", "false"],
    "publish_plots": ["true", "false"],
    "pr_check": ["true", "false"],
    "monitoring": ["true", "false"],
    "data_tools": ["true", "false"],
    "serving": ["true", "false"],
    "cloud_training": ["true", "false"],
}


def valid(combination: dict[str, str]) -> bool:
    # The service logs every prediction, so it comes only with the monitoring room.
    serving_ok = combination["serving"] == "false" or combination["monitoring"] == "true"
    return combination["model"] in MODELS[combination["task"]] and serving_ok


def pairwise_cover() -> list[dict[str, str]]:
    """Greedy all-pairs: add the valid combination that covers the most uncovered pairs."""
    names = list(FACTORS)
    candidates = [dict(zip(names, values, strict=True)) for values in itertools.product(*FACTORS.values())]
    candidates = [c for c in candidates if valid(c)]

    def pairs(combination: dict[str, str]) -> set[tuple[tuple[str, str], tuple[str, str]]]:
        return {((a, combination[a]), (b, combination[b])) for a, b in itertools.combinations(names, 2)}

    uncovered = set().union(*(pairs(c) for c in candidates))
    chosen = []
    while uncovered:
        best = max(candidates, key=lambda c: len(pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= pairs(best)
    return chosen


COMBINATIONS = pairwise_cover()


def test_the_cover_is_pairwise_and_small():
    assert 15 <= len(COMBINATIONS) <= 30
    for a, b in itertools.combinations(FACTORS, 2):
        seen = {(c[a], c[b]) for c in COMBINATIONS}
        possible = {(c[a], c[b]) for c in _all_valid()}
        assert seen == possible, (a, b)


def _all_valid():
    names = list(FACTORS)
    for values in itertools.product(*FACTORS.values()):
        combination = dict(zip(names, values, strict=True))
        if valid(combination):
            yield combination


@pytest.mark.parametrize("combination", COMBINATIONS, ids=["-".join(c.values()) for c in COMBINATIONS])
def test_combination_renders_lints_and_has_a_dag(combination, tmp_path, default_project: Project):
    answers = dict(combination)
    if REMOTES[answers["data_remote"]]:
        answers["remote_url"] = REMOTES[answers["data_remote"]]
    project = tmp_path / "project"
    done = render(project, answers, "--skip-tasks")
    assert done.returncode == 0, done.stderr[-3000:]
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        lint = subprocess.run(
            [str(TOOLS_BIN / command[0]), *command[1:]],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout[-3000:]
    subprocess.run(["git", "init", "--quiet"], cwd=project, check=True)
    # The setup task (skipped here) composes params.yaml, which dvc.yaml interpolates (${data.raw_path}).
    (module,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    compose = subprocess.run(
        [str(default_project.venv_bin / "python"), "-m", f"{module}.compose_params"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert compose.returncode == 0, compose.stderr[-3000:]
    dag = subprocess.run(
        [str(default_project.venv_bin / "dvc"), "dag", "--dot"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dag.returncode == 0, dag.stderr[-3000:]
    edges = set(re.findall(r'"(\w+)" -> "(\w+)";', dag.stdout))
    assert edges == {
        ("validate", "prepare"),
        ("prepare", "train"),
        ("prepare", "evaluate"),
        ("train", "evaluate"),
    }
    remote = (project / ".dvc" / "config").read_text()
    assert ("url = " in remote) == (answers["data_remote"] != "none")
    default_groups = (project / "pyproject.toml").read_text().split("default-groups")[1].splitlines()[0]
    for room, group, marker in (
        ("serving", "serve", "Dockerfile"),
        ("pr_check", "pr-check", ".github/workflows/pr.yml"),
        ("monitoring", "monitoring", ".github/workflows/monitor.yml"),
        ("data_tools", None, "params/sweeps.yaml"),
    ):
        chosen = answers[room] == "true"
        assert (project / "src" / "penguins_model" / room).is_dir() == chosen, room
        assert (project / marker).exists() == chosen, marker
        if group:
            assert (f'"{group}"' in default_groups) == chosen, default_groups
