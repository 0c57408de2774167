"""Template repo tasks: `nox -s demo`, `nox -s tests`, `nox -s lint`, `nox -s relock`, `nox -s corpus`,
and benchmarks (`nox -s bench`, `nox -s serving-benchmark`).

Every session runs in a uv-made venv without system site-packages, so nothing installed on the
machine (dvc, pandas, ...) can make a test pass by accident.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox
import uv

ROOT = Path(__file__).parent
DEMO_DIR = ROOT / "demo-project"
COPIER = "copier==9.19.1"
# Azurite for the Azure remote test; 3.36+ needs Node 22, Debian's is 20.
AZURITE = "azurite@3.35.0"
AZURITE_DIR = ROOT / ".nox" / AZURITE.replace("@", "-")
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]
# The README runs `.venv/bin/nox` without activating the venv: put its uv on PATH for the
# sessions and for the rendered project's setup task, which calls `uv`.
os.environ["PATH"] = os.pathsep.join([str(Path(uv.find_uv_bin()).parent), os.environ["PATH"]])


def copier_copy(session: nox.Session, destination: Path, *options: str) -> None:
    """Render this repo's working tree (--vcs-ref HEAD) with default answers into `destination`."""
    if destination.exists():
        shutil.rmtree(destination)
    session.run(
        *("uv", "tool", "run", "--from", COPIER, "copier", "copy", "--defaults", "--vcs-ref", "HEAD"),
        *options,
        str(ROOT),
        str(destination),
        external=True,
    )


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """Render a project with default answers into ./demo-project and reproduce its pipeline."""
    copier_copy(session, DEMO_DIR, "--trust")
    session.chdir(DEMO_DIR)
    session.run("uv", "run", "--locked", "dvc", "repro", external=True)
    session.run("uv", "run", "--locked", "dvc", "metrics", "show", "--md", external=True)
    session.log(f"Project in {DEMO_DIR}; try `cd demo-project && uv run dvc exp show`.")


def ensure_azurite(session: nox.Session) -> Path:
    """Azurite's blob service from npm, installed once under .nox/, for the Azure remote test."""
    program = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if not program.exists():
        if not shutil.which("npm"):
            session.error(
                "npm not found: install Node.js 20+ with npm, needed for Azurite (the Azure remote test)"
            )
        session.run(
            *(
                "npm",
                "install",
                "--prefix",
                str(AZURITE_DIR),
                "--no-audit",
                "--no-fund",
                "--omit=optional",
                AZURITE,
            ),
            external=True,
        )
    return program


@nox.session
def tests(session: nox.Session) -> None:
    """All template tests: render answer sets, run dvc repro and the generated test suites."""
    # Bytecode compiled once at install, not again in every test process.
    session.install("-r", "requirements-test.txt", env={"UV_COMPILE_BYTECODE": "1"})
    session.run("pytest", *session.posargs, env={"AZURITE_BLOB": str(ensure_azurite(session))})


@nox.session
def corpus(session: nox.Session) -> None:
    """The whole lifecycle on every real table of tests/support/corpus.py; rewrites docs/CORPUS.md.

    `nox -s corpus -- ames taxi` runs only those tables (and leaves docs/CORPUS.md alone). Tables run
    one after another in .nox/corpus-work/ (about an hour for all). Exits non-zero when a step failed,
    after writing the document.
    """
    session.install("-r", "requirements-test.txt", env={"UV_COMPILE_BYTECODE": "1"})
    work = ROOT / ".nox" / "corpus-work"
    out = [] if session.posargs else ["--out", str(ROOT / "docs" / "CORPUS.md")]
    session.chdir(ROOT / "tests")
    session.run("python", "-m", "support.corpus", "--work", str(work), *out, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", "noxfile.py", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "noxfile.py", "tests", "benchmarks")


@nox.session
def bench(session: nox.Session) -> None:
    """Pipeline vs bare script at 344 rows to 10M; rewrites benchmarks/RESULTS.md (about an hour).

    `nox -s bench -- --smoke` runs penguins and 100k rows once into .bench/smoke (a few minutes
    at most; the template tests run it too). Not part of the default sessions.
    """
    session.install(COPIER)
    if "--smoke" in session.posargs:
        smoke = ROOT / ".bench" / "smoke"
        session.run(
            "python", "benchmarks/run.py", "--work", str(smoke), "--out", str(smoke / "out"), *session.posargs
        )
    else:
        session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=False)
def relock(session: nox.Session) -> None:
    """Update template/uv.lock for the default rendering (run after changing dependencies)."""
    scratch = ROOT / ".nox" / "relock"
    copier_copy(session, scratch, "--skip-tasks")
    # Starting from the shipped lock keeps every pin that still fits; pass `-- --upgrade` to refresh.
    session.run("uv", "lock", "--directory", str(scratch), *session.posargs, external=True)
    shutil.copy2(scratch / "uv.lock", ROOT / "template" / "uv.lock")


@nox.session(name="serving-benchmark", python=False)
def serving_benchmark(session: nox.Session) -> None:
    """Render defaults, train, load-test the service; writes benchmarks/SERVING.md (about 8 minutes).

    The generated project's `nox -s load-test` does the work; pass its options after `--`.
    """
    project = ROOT / "benchmarks" / "work" / "serving"
    copier_copy(session, project, "--trust")
    session.chdir(project)
    session.run("uv", "run", "--locked", "dvc", "repro", external=True)
    load_test = ("uv", "run", "--locked", "nox", "-s", "load-test", "--")
    session.run(*load_test, "--report", "SERVING.md", *session.posargs, external=True)
    shutil.copy2(project / "SERVING.md", ROOT / "benchmarks" / "SERVING.md")
