"""The serving answer: a lint-clean Dockerfile with the properties a model service needs, and the
service's own tests passing for a regression project too (the default one runs in the generated suite)."""

from __future__ import annotations

import json
import re
import subprocess

import yaml
from support.projects import REGRESSION_HGB, TOOLS_BIN, Project, rendered_project


def serving(project: Project) -> bool:
    """The answer, or its default: on exactly when the monitoring room is (the service logs)."""
    answers = project.answer_set.answers
    return answers.get("serving", answers.get("monitoring", "true")) == "true"


def dockerfile_instructions(project: Project) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (project.path / "Dockerfile").read_text()
    logical = re.sub(r"\\\n\s*", " ", text)
    pairs = []
    for line in logical.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments))
    return pairs


def test_dockerfile_passes_hadolint_or_is_absent(project: Project):
    dockerfile = project.path / "Dockerfile"
    if not serving(project):
        assert not dockerfile.exists() and not (project.path / ".dockerignore").exists()
        return
    done = subprocess.run(
        [str(TOOLS_BIN / "hadolint"), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_curl_example_sends_exactly_the_models_features(project: Project):
    """Per task: the regression README once sent the target and left out a feature (a 422)."""
    if not serving(project):
        return
    readme = (project.path / "README.md").read_text()
    body = re.search(r"/predict -H 'content-type: application/json' -d '(\{.*?\})'", readme, re.DOTALL)
    assert body, "no /predict example in the README"
    [record] = json.loads(body.group(1))["records"]
    data = yaml.safe_load((project.path / "params/data/penguins.yaml").read_text())
    assert set(record) == {*data["numeric_features"], *data["categorical_features"]}


def test_dockerfile_builds_a_small_non_root_service(default_project: Project):
    steps = dockerfile_instructions(default_project)
    stages = [arguments for instruction, arguments in steps if instruction == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS build"), stages
    runs = [arguments for instruction, arguments in steps if instruction == "RUN"]
    syncs = [run for run in runs if run.startswith("uv sync")]
    assert len(syncs) == 2 and all("--locked" in s and "--group serve" in s for s in syncs), syncs
    assert all("--no-default-groups" in s for s in syncs), "dev tools must stay out of the image"
    final = steps[max(i for i, (instruction, _) in enumerate(steps) if instruction == "FROM") :]
    user = [arguments for instruction, arguments in final if instruction == "USER"]
    assert user and user[-1].split(":")[0] not in {"0", "root"}, user
    copies = [arguments for instruction, arguments in final if instruction == "COPY"]
    assert any("models/model.skops" in c and "models/model.json" in c for c in copies), copies
    assert any("dvc.lock" in c for c in copies), "the service checks its model against dvc.lock"
    assert ("EXPOSE", "8000") in final
    health = next(arguments for instruction, arguments in final if instruction == "HEALTHCHECK")
    assert "/health" in health
    command = next(arguments for instruction, arguments in final if instruction == "CMD")
    assert '"-m", "penguins_model.serving.serve"' in command and '"0.0.0.0"' in command


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies(default_project: Project):
    ignore = (default_project.path / ".dockerignore").read_text().splitlines()
    assert "*" in ignore, "an allowlist: nothing reaches the build context unless named"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for instruction, arguments in dockerfile_instructions(default_project):
        if instruction == "COPY" and not arguments.startswith("--from"):
            copied |= {source.rstrip("/") for source in arguments.split()[:-1]}
    assert copied == allowed


def test_regression_service_passes_its_own_tests(tmp_path_factory):
    """Fast tests only: the load-test smoke (slow) runs in the default project's full suite."""
    project = rendered_project(REGRESSION_HGB, tmp_path_factory)
    done = project.run("pytest", "tests/serving", "-p", "no:cacheprovider", "-q", check=False)
    assert done.returncode == 0, done.stdout[-5000:]
    assert re.search(r"\b18 passed, 1 deselected\b", done.stdout), done.stdout[-2000:]
