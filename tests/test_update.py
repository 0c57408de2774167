"""`copier update` from an older template version onto a project with user commits on top."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from support.projects import GIT_IDENTITY, TEMPLATE_ROOT, TOOLS_BIN, copier_command, outer_env_removed


def sh(*args: str | Path, cwd: Path) -> str:
    env = outer_env_removed()
    env["PATH"] = os.pathsep.join([str(cwd / ".venv" / "bin"), str(TOOLS_BIN), env["PATH"]])
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**env, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def make_v2(template: Path) -> None:
    """A real v2: a changed default param, a renamed file, and a migration for a moved output."""
    forest = template / "template/params/model/random_forest.yaml.jinja"
    edit(forest, "n_estimators: 200", "n_estimators: 300")
    sh(
        "git",
        "mv",
        "template/tests/unit/test_files.py.jinja",
        "template/tests/unit/test_atomic_files.py.jinja",
        cwd=template,
    )
    edit(
        template / "template/src/{{ module_name }}/data_dictionary.py",
        "docs/data_dictionary.md",
        "docs/data-dictionary.md",
    )
    edit(
        template / "copier.yml",
        "_migrations:\n",
        "_migrations:\n"
        "  - version: v2.0.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        "    command: git mv docs/data_dictionary.md docs/data-dictionary.md\n",
    )
    sh("git", "commit", "--quiet", "--all", "-m", "v2", cwd=template)
    sh("git", "tag", "v2.0.0", cwd=template)


def test_update_keeps_user_changes_and_regenerates(tmp_path):
    template = tmp_path / "template"
    sh("git", "clone", "--quiet", TEMPLATE_ROOT, template, cwd=tmp_path)
    sh("git", "tag", "v1.0.0", cwd=template)
    project = tmp_path / "project"
    sh(
        *copier_command("copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", template, project),
        cwd=tmp_path,
    )

    # The user's own commits: a changed param and a new test.
    edit(project / "params/split/default.yaml", "test_size: 0.2", "test_size: 0.25")
    (project / "tests/unit/test_mine.py").write_text("def test_mine():\n    assert 1 + 1 == 2\n")
    sh("python", "-m", "penguins_model.compose_params", cwd=project)
    sh("git", "add", "--all", cwd=project)
    sh("git", "commit", "--quiet", "-m", "My changes", cwd=project)

    make_v2(template)
    sh(*copier_command("update", "--trust", "--defaults", "--vcs-ref", "v2.0.0"), cwd=project)

    status = sh("git", "status", "--porcelain", cwd=project)
    conflicted = subprocess.run(
        ["git", "grep", "-l", "^<<<<<<< "], cwd=project, capture_output=True, text=True, check=False
    )
    assert conflicted.stdout == "", f"conflict markers in {conflicted.stdout}"
    assert not list(project.rglob("*.rej"))
    assert "test_size: 0.25" in (project / "params/split/default.yaml").read_text()
    assert (project / "tests/unit/test_mine.py").exists()
    assert (project / "tests/unit/test_atomic_files.py").exists()
    assert not (project / "tests/unit/test_files.py").exists()
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["split"]["test_size"] == 0.25 and params["model"]["n_estimators"] == 300
    assert (project / "docs/data-dictionary.md").exists() and not (
        project / "docs/data_dictionary.md"
    ).exists()
    sh("python", "-m", "penguins_model.data_dictionary", "--check", cwd=project)
    sh("uv", "lock", "--check", cwd=project)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2.0.0"
    assert "R  docs/data_dictionary.md -> docs/data-dictionary.md" in status.splitlines()


# main as it landed before the package moved into rooms (pipeline.py -> model.py, ci.py -> pr_check/).
LANDED_BEFORE_ROOMS = "a533f53855b677b3849e0fce703741f00279f201"


def test_update_across_the_move_to_rooms_carries_edits_of_moved_modules(tmp_path):
    template = tmp_path / "template"
    sh("git", "clone", "--quiet", TEMPLATE_ROOT, template, cwd=tmp_path)
    sh("git", "tag", "v1.0.0", LANDED_BEFORE_ROOMS, cwd=template)
    sh("git", "tag", "v2.0.0", "HEAD", cwd=template)
    project = tmp_path / "project"
    sh(
        *copier_command("copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", template, project),
        cwd=tmp_path,
    )
    package = project / "src/penguins_model"
    # The user's edits of two modules that move (the template changes both on the way).
    ours = 'make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())'
    edit(package / "pipeline.py", 'make_pipeline(SimpleImputer(strategy="median"), StandardScaler())', ours)
    report_dir = 'REPORT_DIR = Path(os.environ.get("REPORT_DIR", "pr-report"))'
    edit(package / "ci.py", report_dir, 'REPORT_DIR = Path("our-report")')
    # And their data dictionary, which lived in schema.py then and is data (schema.yaml) now.
    edit(package / "schema.py", '"Island in the Palmer Archipelago"', '"Island (ours)"')
    sh("git", "commit", "--quiet", "--all", "-m", "Our model, report folder and dictionary", cwd=project)

    sh(*copier_command("update", "--trust", "--defaults", "--vcs-ref", "v2.0.0"), cwd=project)

    conflicted = subprocess.run(
        ["git", "grep", "-l", "^<<<<<<< "], cwd=project, capture_output=True, text=True, check=False
    )
    assert conflicted.stdout == "", f"conflict markers in {conflicted.stdout}"
    assert not list(project.rglob("*.rej")) and not list(project.rglob("*.yours"))
    assert not (package / "pipeline.py").exists() and not (package / "ci.py").exists()
    model = (package / "model.py").read_text()
    assert ours in model
    assert "from ._internal.errors import PipelineError" in model
    check = (package / "pr_check/check.py").read_text()
    assert 'REPORT_DIR = Path("our-report")' in check and "from .._internal.errors import" in check
    # A moved module the user never edited is exactly the new template's.
    shipped = template / "template/src/{{ module_name }}/{% if monitoring %}monitoring{% endif %}/drift.py"
    assert (package / "monitoring/drift.py").read_text() == shipped.read_text()
    sh("python", "-c", "import penguins_model.model, penguins_model.pr_check.check", cwd=project)
    assert (package / "schema.py").read_text() == (
        template / "template/src/{{ module_name }}/schema.py"
    ).read_text()
    island = "from penguins_model.schema import RAW_SCHEMA; print(RAW_SCHEMA.columns['island'].description)"
    assert sh("python", "-c", island, cwd=project).strip() == "Island (ours)"
    sh("python", "-m", "penguins_model.compose_params", "--check", cwd=project)
