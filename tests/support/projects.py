"""Rendered projects for the template's tests: answer sets, rendering with copier, a project's env.

Each answer set is rendered once per session (copier copy --trust, so the setup task creates
the git repo and the project's own locked .venv); tests read a project, or change it and
put it back. Projects run with their own venv first on PATH and no VIRTUAL_ENV, so nothing
installed on this machine (dvc, pandas, ...) can make a test pass by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = Path(sys.executable).parent  # copier, uv, ruff of the test venv
# Variables a surrounding venv or nox session sets, which would point uv at the wrong venv.
OUTER_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "CONDA_PREFIX")


def outer_env_removed() -> dict[str, str]:
    """This process's environment without the variables that would point uv at the test venv."""
    return {k: v for k, v in os.environ.items() if k not in OUTER_ENV}


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


@dataclass(frozen=True)
class AnswerSet:
    """Answers given to copier, and what the tests expect of the rendered project."""

    id: str
    answers: dict[str, str] = field(default_factory=dict)
    module: str = "penguins_model"
    task: str = "classification"
    model: str = "random_forest"
    # A real edit of a model param file: (file under params/model/, old text, new text).
    param_edit: tuple[str, str, str] = ("random_forest.yaml", "n_estimators: 200", "n_estimators: 60")


DEFAULT = AnswerSet("default")
REGRESSION_HGB = AnswerSet(
    "regression-hgb",
    answers={
        "project_name": "Mass Predictor",
        "task": "regression",
        "model": "hist_gradient_boosting",
        "publish_plots": "true",
    },
    module="mass_predictor",
    task="regression",
    model="hist_gradient_boosting",
    param_edit=("hist_gradient_boosting.yaml", "learning_rate: 0.1", "learning_rate: 0.05"),
)
LOGREG_LOCAL_REMOTE = AnswerSet(
    "logreg-local-remote",
    answers={
        "project_name": "Species LR",
        "module_name": "species_lr",
        "model": "logistic_regression",
        "data_remote": "local",
        "python_version": "3.11",
        "gate_blocks_merge": "false",
        "serving": "false",
        "cloud_training": "true",
    },
    module="species_lr",
    model="logistic_regression",
    param_edit=("logistic_regression.yaml", "C: 1.0", "C: 0.5"),
)
# Every optional room off: the core alone must render, reproduce and pass its own suite.
MINIMAL = AnswerSet(
    "minimal",
    answers={"project_name": "Bare Bones", "pr_check": "false", "monitoring": "false", "data_tools": "false"},
    module="bare_bones",
)
ANSWER_SETS = [DEFAULT, REGRESSION_HGB, LOGREG_LOCAL_REMOTE, MINIMAL]


@dataclass(frozen=True)
class Project:
    path: Path
    answer_set: AnswerSet
    # Git state right after setup, before any test ran dvc in the project.
    tracked_files: frozenset[str] = frozenset()
    commit_count: int = 0
    status: str = ""

    @property
    def venv_bin(self) -> Path:
        return self.path / ".venv" / "bin"

    def env(self) -> dict[str, str]:
        env = outer_env_removed()
        env["PATH"] = os.pathsep.join([str(self.venv_bin), str(TOOLS_BIN), env["PATH"]])
        return {**env, **GIT_IDENTITY}

    def run(self, *args: str | Path, cwd: Path | None = None, check: bool = True):
        done = subprocess.run(
            [str(a) for a in args],
            check=False,  # checked below, with the output in the failure message
            cwd=cwd or self.path,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if check and done.returncode != 0:
            command = " ".join(map(str, args))
            output = f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            pytest.fail(f"{command} exited {done.returncode}:\n{output}")
        return done


def copier_command(*args: str | Path) -> list[str]:
    return [str(TOOLS_BIN / "copier"), *map(str, args)]


def render(destination: Path, answers: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    env = outer_env_removed()
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), env["PATH"]])
    return subprocess.run(
        copier_command("copy", "--defaults", "--vcs-ref", "HEAD", *extra, *data, TEMPLATE_ROOT, destination),
        env={**env, **GIT_IDENTITY},
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )


_RENDERED: dict[str, Project] = {}
_REPRODUCED: set[str] = set()


def rendered_project(answer_set: AnswerSet, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Render and set up `answer_set` once per session; later calls get the same project."""
    if answer_set.id in _RENDERED:
        return _RENDERED[answer_set.id]
    base = tmp_path_factory.mktemp(answer_set.id)
    answers = dict(answer_set.answers)
    if answers.get("data_remote") == "local":
        answers["remote_url"] = str(base / "dvc-remote")
    done = render(base / "project", answers, "--trust")
    if done.returncode != 0:
        pytest.fail(f"copier copy failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    path = base / "project"

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout

    _RENDERED[answer_set.id] = Project(
        path,
        answer_set,
        tracked_files=frozenset(git("ls-files").split()),
        commit_count=int(git("rev-list", "--count", "HEAD")),
        status=git("status", "--porcelain"),
    )
    return _RENDERED[answer_set.id]


def reproduced_project(answer_set: AnswerSet, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The project after one full `dvc repro`, run once per session."""
    project = rendered_project(answer_set, tmp_path_factory)
    if answer_set.id not in _REPRODUCED:
        project.run(project.venv_bin / "dvc", "repro")
        _REPRODUCED.add(answer_set.id)
    return project
