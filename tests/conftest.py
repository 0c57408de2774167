"""Session fixtures: each answer set is rendered once (copier copy --trust, so the setup task creates
the git repo and the project's own locked .venv) and handed to the tests; see support/projects.py.

Test tiers (markers, declared in pytest.ini): `remote` (storage servers on 127.0.0.1), `harness`
(GitHub workflows run by the local harness), `bench` (the benchmark smoke run); the rest render
and run projects directly. `pytest -m "not remote and not bench"` runs a quicker subset; CI runs all.
"""

from __future__ import annotations

import pytest
from support.projects import ANSWER_SETS, DEFAULT, Project, rendered_project, reproduced_project


@pytest.fixture(scope="session", params=ANSWER_SETS, ids=[a.id for a in ANSWER_SETS])
def project(request, tmp_path_factory) -> Project:
    """A rendered, set-up project (git repo, .venv, first commit), one per answer set."""
    return rendered_project(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def reproduced(project: Project, tmp_path_factory) -> Project:
    """`project` after one full `dvc repro`; tests read it, or change it and put it back."""
    return reproduced_project(project.answer_set, tmp_path_factory)


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Project:
    return rendered_project(DEFAULT, tmp_path_factory)


@pytest.fixture(scope="session")
def default_reproduced(tmp_path_factory) -> Project:
    return reproduced_project(DEFAULT, tmp_path_factory)
