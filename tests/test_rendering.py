"""The rendered project: exact files, no template leftovers, lint-clean, set up for real."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import palmerpenguins
from support.projects import DEFAULT, TEMPLATE_ROOT, Project, render

COMMON_FILES = {
    ".copier-answers.yml",
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/daily.yml",
    ".github/workflows/release.yml",
    ".github/workflows/train.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "README.md",
    "docs/data_dictionary.md",
    "dvc.yaml",
    "noxfile.py",
    "params.yaml",
    "params/config.yaml",
    "params/data/ci.yaml",
    "params/experiment/boosting.yaml",
    "params/experiment/quick.yaml",
    "params/data/penguins.yaml",
    "params/evaluate/default.yaml",
    "params/model/hist_gradient_boosting.yaml",
    "params/model/random_forest.yaml",
    "params/split/default.yaml",
    "pyproject.toml",
    "scripts/bootstrap.py",
    "scripts/migrate_layout.py",
    "src/{module}/schema.yaml",
    "uv.lock",
    *(
        f"src/{{module}}/{name}.py"
        for name in (
            # The core the user owns, then the template's rooms.
            *("__init__", "validate", "prepare", "train", "evaluate", "schema", "model", "metrics"),
            *("predict", "params", "compose_params", "data_dictionary"),
            *(f"_internal/{n}" for n in ("__init__", "errors", "files", "paths", "lineage", "model_store")),
            *("_internal/scoring", "_internal/shift", "_internal/threads"),
        )
    ),
    "tests/conftest.py",
    "tests/data/edge_cases.csv",
    "tests/data/test_data_dictionary.py",
    "tests/data/test_edge_cases.py",
    "tests/data/test_penguins.py",
    "tests/data/test_raw_data.py",
    "tests/data/test_skew.py",
    "tests/integration/test_pipeline_repro.py",
    "tests/integration/test_predict_command.py",
    "tests/model/test_model_performance.py",
    "tests/model/test_model_validation.py",
    "tests/unit/test_files.py",
    "tests/unit/test_metrics.py",
    "tests/unit/test_model_store.py",
    "tests/unit/test_params.py",
    "tests/unit/test_model.py",
    "tests/unit/test_prepare.py",
    "tests/unit/test_validate.py",
}
# The optional rooms, each a copier answer (on by default).
PR_CHECK_FILES = {
    ".github/workflows/model-check-comment.yml",
    ".github/workflows/pr.yml",
    "docs/pr-report-example.md",
    "docs/pr-report-example.png",
    *(
        f"src/{{module}}/pr_check/{name}.py"
        for name in ("__init__", "__main__", "check", "compare", "report")
    ),
    "tests/pr_check/test_compare.py",
    "tests/pr_check/test_report.py",
}
DATA_TOOLS_FILES = {
    "params/sweeps.yaml",
    *(
        f"src/{{module}}/data_tools/{n}.py"
        for n in ("__init__", "adopt_data", "infer_schema", "evolve_schema", "experiments", "keep_experiment")
    ),
    "tests/data_tools/test_evolve_schema.py",
    "tests/data_tools/test_experiments.py",
    "tests/data_tools/test_keep_experiment.py",
    "tests/data_tools/test_infer_schema.py",
}
MONITORING_FILES = {
    ".github/workflows/monitor.yml",
    "params/monitor/default.yaml",
    *(f"src/{{module}}/monitoring/{name}.py" for name in ("__init__", "prediction_log", "drift", "latency")),
    "tests/load/test_latency.py",
    "tests/operate/test_drift_monitor.py",
    "tests/operate/test_prediction_log.py",
}
SERVING_FILES = {
    ".dockerignore",
    "Dockerfile",
    "src/{module}/serving/__init__.py",
    "src/{module}/serving/serve.py",
    "src/{module}/serving/load_generator.py",
    "tests/serving/conftest.py",
    "tests/serving/test_batching.py",
    "tests/serving/test_load_generator.py",
    "tests/serving/test_serve.py",
}
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}|\.jinja\b")


def expected_files(project: Project) -> set[str]:
    answers = project.answer_set
    rooms = {
        "pr_check": PR_CHECK_FILES,
        "monitoring": MONITORING_FILES,
        "serving": SERVING_FILES,
        "data_tools": DATA_TOOLS_FILES,
    }
    chosen = {room for room in rooms if answers.answers.get(room, "true") == "true"}
    if "monitoring" not in chosen:
        chosen.discard("serving")  # the service logs every prediction: it needs the monitoring room
    files = {
        name.replace("{module}", answers.module)
        for name in COMMON_FILES.union(*(rooms[room] for room in chosen))
    }
    files.add(
        "params/model/logistic_regression.yaml"
        if answers.task == "classification"
        else "params/model/ridge.yaml"
    )
    if answers.answers.get("data_remote", "none") == "none":
        files.add("data/raw/penguins.csv")
    else:
        files |= {"data/raw/penguins.csv.dvc", "data/raw/.gitignore"}
    return files


def test_committed_file_set_is_exact(project: Project):
    assert set(project.tracked_files) == expected_files(project)


def test_setup_made_one_clean_commit(project: Project):
    assert project.commit_count == 1
    assert project.status == ""


def test_no_template_syntax_left(project: Project):
    for name in sorted(project.tracked_files):
        path = project.path / name
        if path.suffix in {".csv", ".lock", ".png"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert not JINJA_LEFTOVER.search(text), f"{name}: {JINJA_LEFTOVER.search(text).group()!r}"


def test_ruff_is_clean(project: Project):
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")


def test_tools_resolve_inside_the_project_venv(project: Project):
    venv = project.path / ".venv"
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    for tool in ("dvc", "python"):
        found = Path(project.run("which", tool).stdout.strip())
        assert found.parent == project.venv_bin, f"{tool} resolves to {found}, not {project.venv_bin}"
    probe = "import sys, pandas, dvc; print(sys.prefix, pandas.__file__, dvc.__file__)"
    prefix, *module_files = project.run("python", "-c", probe).stdout.split()
    assert Path(prefix) == venv
    for module_file in module_files:
        assert Path(module_file).is_relative_to(venv), f"{module_file} imported from outside {venv}"


def test_lock_keeps_the_template_pins(project: Project):
    def pins(lock_path: Path) -> dict[str, str]:
        lock = tomllib.loads(lock_path.read_text())
        return {
            p["name"]: p["version"] for p in lock["package"] if p.get("source", {}).get("editable") != "."
        }

    assert pins(project.path / "uv.lock") == pins(TEMPLATE_ROOT / "template" / "uv.lock")
    project.run("uv", "lock", "--check")


def test_params_yaml_is_in_sync(project: Project):
    done = project.run("python", "-m", f"{project.answer_set.module}.compose_params", "--check")
    assert "params.yaml is up to date" in done.stdout


def test_dvc_hydra_and_remote_config(project: Project):
    dvc = project.venv_bin / "dvc"
    assert project.run(dvc, "config", "hydra.enabled").stdout.strip() == "true"
    assert project.run(dvc, "config", "hydra.config_dir").stdout.strip() == "params"
    if project.answer_set.answers.get("data_remote") == "local":
        remote = Path(project.run(dvc, "remote", "list").stdout.split()[1])
        pushed = [p for p in remote.rglob("*") if p.is_file()]
        assert len(pushed) == 1, "bootstrap should have pushed the raw data to the local remote"
        assert pushed[0].read_bytes() == (project.path / "data/raw/penguins.csv").read_bytes()
    else:
        assert project.run(dvc, "remote", "list").stdout.strip() == ""


def test_shipped_data_is_the_palmerpenguins_file():
    shipped = TEMPLATE_ROOT / "template" / "data" / "raw" / "penguins.csv"
    packaged = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    assert shipped.read_bytes() == packaged.read_bytes()


def test_readme_names_the_module_and_setup_command(project: Project):
    text = (project.path / "README.md").read_text()
    assert f"src/{project.answer_set.module}/" in text
    assert "python3 scripts/bootstrap.py" in text


def has_pr_check(project: Project) -> bool:
    """The PR check's answers only reach files the PR check room renders."""
    present = (project.path / ".github/workflows/pr.yml").exists()
    assert present == (project.answer_set.answers.get("pr_check", "true") == "true")
    return present


def test_gate_answer_reaches_the_pr_workflow(project: Project):
    blocks = project.answer_set.answers.get("gate_blocks_merge", "true")
    if has_pr_check(project):
        assert f'GATE_BLOCKS_MERGE: "{blocks}"' in (project.path / ".github/workflows/pr.yml").read_text()


def test_publish_answer_reaches_report_and_poster(project: Project):
    publish = project.answer_set.answers.get("publish_plots", "false")
    workflows = project.path / ".github" / "workflows"
    if not has_pr_check(project):
        return
    assert f'PUBLISH_PLOTS: "{publish}"' in (workflows / "pr.yml").read_text()
    poster = (workflows / "model-check-comment.yml").read_text()
    # Publishing uploads plots.png alone with `cml asset publish`; without it CML is not installed.
    assert ('cml asset publish "$plots_dir/plots.png"' in poster) == (publish == "true")
    assert ("iterative/setup-cml" in poster) == (publish == "true")


def test_free_text_answers_reach_toml_and_dvc_config_intact(tmp_path):
    """Quotes and backslashes are escaped in pyproject.toml; `,`, `#` and spaces survive .dvc/config."""
    answers = {
        "project_name": 'The "Q" \\ Model',
        "author_name": 'Jo "JJ" O\\Neil',
        "data_remote": "local",
        "remote_url": "/srv/dvc store,v2 #1",
    }
    done = render(tmp_path / "project", answers, "--skip-tasks")
    assert done.returncode == 0, done.stderr[-4000:]
    project = tomllib.loads((tmp_path / "project" / "pyproject.toml").read_text())["project"]
    assert project["description"].startswith(f"{answers['project_name']}: ")
    assert project["authors"] == [{"name": answers["author_name"], "email": "you@example.com"}]
    # configobj (DVC's config parser) would read an unquoted `,` as a list and `#` as a comment.
    config = (tmp_path / "project" / ".dvc" / "config").read_text()
    assert f'    url = "{answers["remote_url"]}"\n' in config


def test_setup_in_a_used_folder_commits_only_rendered_files_and_says_it_ran(tmp_path):
    """Files that were in the folder before copier stay out of the first commit, named; the closing
    message says setup ran (copier prints it only after the tasks succeeded)."""
    destination = tmp_path / "project"
    destination.mkdir()
    (destination / ".env").write_text("API_TOKEN=secret\n")
    (destination / "credentials.json").write_text('{"password": "secret"}\n')
    done = render(destination, {}, "--trust")
    assert done.returncode == 0, done.stderr[-4000:]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=destination, capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(tracked) == expected_files(Project(destination, DEFAULT))
    assert (destination / ".env").exists() and (destination / "credentials.json").exists()
    assert "left out of git, as they were not rendered by the template: credentials.json." in done.stderr
    assert "Setup is done" in done.stderr
    assert "run it once first" not in done.stderr
