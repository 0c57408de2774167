"""Bring your own data: `adopt_data` on a CSV that is not penguins, then the same pipeline on it.

One project of its own (it is changed for good), rendered once: a synthetic customer-churn table
with ints, floats, string categories, a true/false column, a free-text id and nulls is adopted,
reproduced with real DVC, tested with the project's own suite, and then a second batch of the
same source must pass validation while bad batches fail with one line.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from support.projects import AnswerSet, Project, render

MODULE = "churn_model"
BYOD = AnswerSet("byod", answers={"project_name": "Churn Model"}, module=MODULE)
RAW = "data/raw/churn.csv"
ADOPT = ("-m", f"{MODULE}.data_tools.adopt_data")
EVOLVE = ("-m", f"{MODULE}.data_tools.evolve_schema")


def churn_table(seed: int, rows: int = 500, stretch: float = 0.0) -> pd.DataFrame:
    """Synthetic customers with a learnable churn signal; `stretch` > 0 reaches past batch 1's values."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73 + int(8 * stretch), rows)
    charges = np.round(rng.uniform(20, 120 + 10 * stretch, rows), 2)
    plan = rng.choice(["basic", "standard", "premium"], rows, p=[0.4, 0.35, 0.25])
    calls = rng.poisson(2.0 + stretch, rows).clip(0, 9)
    logit = 1.0 - 0.07 * tenure + 0.6 * calls + 1.5 * (plan == "basic") - 1.2 * (plan == "premium")
    logit += 0.02 * (charges - 70)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{seed:03d}-{i:05d}" for i in range(rows)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "plan": plan,
            "region": rng.choice(["north", "south", "east", "west"], rows).astype(object),
            "paperless_billing": pd.Series(rng.random(rows) < 0.6, dtype=object),
            "support_calls": calls,
            "churned": np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no"),
        }
    )
    for column, share in [("monthly_charges", 0.03), ("region", 0.05), ("paperless_billing", 0.04)]:
        frame.loc[rng.random(rows) < share, column] = None
    return frame


def python(project: Project, *args: str, check: bool = False):
    return project.run(project.venv_bin / "python", *args, check=check)


def tracked_state(project: Project) -> dict[str, str]:
    """md5 of every file adopt_data may write or remove."""
    folders = ["params", "src", "docs", "tests"]
    files = [p for folder in folders for p in (project.path / folder).rglob("*") if p.is_file()]
    files += [project.path / "params.yaml"]
    return {
        str(p.relative_to(project.path)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in files
        if "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def adopted(tmp_path_factory) -> tuple[Project, str]:
    """A fresh project with the churn CSV adopted and committed; also adopt_data's output."""
    base = tmp_path_factory.mktemp("byod")
    done = render(base / "project", BYOD.answers, "--trust")
    if done.returncode != 0:
        pytest.fail(f"copier copy failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    project = Project(base / "project", BYOD)
    churn_table(seed=1).to_csv(project.path / RAW, index=False)
    output = python(project, *ADOPT, RAW, "--target", "churned", "--sensitive", "customer_id", check=True)
    project.run("git", "add", "--all")
    project.run("git", "commit", "--quiet", "-m", "Adopt the churn data")
    return project, output.stdout


def test_adopt_writes_a_reviewable_schema_and_points_params_at_the_csv(adopted):
    project, output = adopted
    schema = (project.path / "src" / MODULE / "schema.yaml").read_text()
    assert "INFERRED - review before trusting" in schema
    columns = yaml.safe_load(schema)["columns"]
    # At least the free-text id and the true/false column carry review notes.
    assert columns["customer_id"]["review"] and columns["paperless_billing"]["review"]
    assert columns["customer_id"]["sensitive"] is True
    params = yaml.safe_load((project.path / "params.yaml").read_text())
    assert params["data"]["raw_path"] == RAW
    assert params["data"]["target"] == "churned"
    assert params["data"]["numeric_features"] == ["tenure_months", "monthly_charges", "support_calls"]
    assert params["data"]["categorical_features"] == ["plan", "region", "paperless_billing"]
    assert "customer_id: text str, NOT a feature" in output
    assert "PLACEHOLDER log_loss" in output and "set a real one in params/evaluate/churn.yaml" in output
    for name in ("test_penguins.py", "test_edge_cases.py", "edge_cases.csv"):
        assert f"removed tests/data/{name}" in output
        assert not (project.path / "tests/data" / name).exists()
    dictionary = (project.path / "docs/data_dictionary.md").read_text()
    assert "| `plan` | string[pyarrow] | not allowed | basic, premium, standard |" in dictionary
    # The project's own lint session: ruff, and params.yaml and the data dictionary in sync.
    project.run(project.venv_bin / "ruff", "check", ".")
    project.run(project.venv_bin / "ruff", "format", "--check", ".")
    python(project, "-m", f"{MODULE}.compose_params", "--check", check=True)
    python(project, "-m", f"{MODULE}.data_dictionary", "--check", check=True)


def test_adopting_again_with_an_unedited_schema_changes_nothing(adopted):
    project, _ = adopted
    before = tracked_state(project)
    python(project, *ADOPT, RAW, "--target", "churned", "--sensitive", "customer_id", check=True)
    assert tracked_state(project) == before


def test_dvc_repro_on_adopted_data_beats_a_trivial_baseline(adopted):
    project, _ = adopted
    project.run(project.venv_bin / "dvc", "repro")
    metrics = json.loads((project.path / "metrics/metrics.json").read_text())
    bar = yaml.safe_load((project.path / "params.yaml").read_text())["evaluate"]
    majority = pd.read_csv(project.path / RAW)["churned"].value_counts(normalize=True).max()
    assert metrics["log_loss"] < bar["threshold"] - 0.1  # the dummy model's log loss
    assert metrics["accuracy"] > majority + 0.1
    assert json.loads((project.path / "metrics/quality_gate.json").read_text())["passed"]
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())
    assert lock["stages"]["validate"]["deps"][0]["path"] == RAW


def test_generated_quick_suite_passes_on_adopted_data(adopted):
    project, _ = adopted
    # CI=true: the generated conftest turns every skip into a failure.
    pytest_command = (project.venv_bin / "pytest", "-q", "-p", "no:cacheprovider")
    done = project.run("env", "CI=true", *pytest_command, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


@pytest.fixture
def raw_batch(adopted):
    """Write another batch over the raw file; the adopted batch is put back afterwards."""
    project, _ = adopted
    raw_path = project.path / RAW
    first = raw_path.read_bytes()

    def write(frame: pd.DataFrame) -> Project:
        frame.to_csv(raw_path, index=False)
        return project

    yield write
    raw_path.write_bytes(first)


def test_second_batch_beyond_the_first_is_accepted(adopted, raw_batch):
    first, second = churn_table(seed=1), churn_table(seed=2, stretch=1.0)
    numeric = ("tenure_months", "monthly_charges", "support_calls")
    beyond = [column for column in numeric if second[column].max() > first[column].max()]
    assert len(beyond) == 3, "the second batch must reach past the first batch's maxima"
    project = raw_batch(second)
    done = python(project, "-m", f"{MODULE}.validate")
    assert done.returncode == 0, done.stderr
    assert "500 rows match the data dictionary" in done.stderr


def test_a_batch_with_new_levels_and_nulls_goes_through_evolve_schema(adopted, raw_batch):
    """validate refuses it; evolve_schema shows the changes, --apply writes them keeping hand edits."""
    project, _ = adopted
    schema_path = project.path / "src" / MODULE / "schema.yaml"
    reviewed = schema_path.read_text().replace("  plan:\n", "  # plan names come from billing\n  plan:\n", 1)
    schema_path.write_text(reviewed)
    batch = churn_table(seed=4)
    batch.loc[[2, 5, 8], "plan"] = "enterprise"
    batch.loc[[1, 4], "support_calls"] = None
    try:
        raw_batch(batch)
        refused = python(project, "-m", f"{MODULE}.validate")
        assert refused.returncode == 1 and "'plan'" in refused.stderr and "'support_calls'" in refused.stderr
        shown = python(project, *EVOLVE, RAW, check=True)
        assert "new levels: enterprise (3 rows)" in shown.stdout and "support_calls: nullable" in shown.stdout
        assert schema_path.read_text() == reviewed, "showing writes nothing"
        python(project, *EVOLVE, RAW, "--apply", check=True)
        evolved = schema_path.read_text()
        assert "# plan names come from billing" in evolved and "enterprise" in evolved
        done = python(project, "-m", f"{MODULE}.validate")
        assert done.returncode == 0, done.stderr
        python(project, "-m", f"{MODULE}.data_dictionary", "--check", check=True)
    finally:
        project.run("git", "checkout", "--", "src", "docs")


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (
            lambda f: f.assign(plan=f["plan"].where(f.index != 3, "platinum")),
            "column 'plan' fails allowed categories",
        ),
        (lambda f: f.drop(columns=["support_calls"]), "missing column 'support_calls'"),
    ],
    ids=["unknown-category", "missing-column"],
)
def test_bad_batch_is_rejected_with_one_line(adopted, raw_batch, corrupt, message):
    project = raw_batch(corrupt(churn_table(seed=3)))
    done = python(project, "-m", f"{MODULE}.validate")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((RAW, "--target", "cancelled"), "target column 'cancelled' not in the CSV"),
        ((RAW, "--target", "monthly_charges"), "not class labels; this project predicts a class"),
        (("data/raw/broken.csv", "--target", "churned"), "not a readable CSV file"),
        (("/etc/hostname", "--target", "churned"), "outside the project"),
        ((RAW, "--target", "churned", "--name", "ci"), "--name 'ci' is taken"),
    ],
    ids=["missing-target", "target-not-a-class", "unreadable", "outside", "reserved-name"],
)
def test_refusals_are_one_line_and_write_nothing(adopted, args, message):
    project, _ = adopted
    (project.path / "data/raw/broken.csv").write_bytes(b"a,b\n1,2,3,4\n\x00\xff\xfe\n")
    before = tracked_state(project)
    try:
        done = python(project, *ADOPT, *args)
    finally:
        (project.path / "data/raw/broken.csv").unlink()
    assert done.returncode == 1
    one_line = done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert one_line and message in done.stderr, done.stderr
    assert tracked_state(project) == before


def test_an_edited_schema_is_replaced_only_with_force(adopted):
    project, _ = adopted
    schema_path = project.path / "src" / MODULE / "schema.yaml"
    reviewed = schema_path.read_text().replace("(inferred: say what it means)", "(reviewed)")
    schema_path.write_text(reviewed)
    try:
        done = python(project, *ADOPT, RAW, "--target", "churned")
        assert done.returncode == 1
        assert "has been edited" in done.stderr and "--force" in done.stderr
        assert schema_path.read_text() == reviewed
        python(project, *ADOPT, RAW, "--target", "churned", "--force", check=True)
        assert "(reviewed)" not in schema_path.read_text()
    finally:
        project.run("git", "checkout", "--", ".")
