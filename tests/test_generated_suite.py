"""The generated project's own test suite, all markers, once per session: the default render
(every room) and the minimal one (no PR check, monitoring or serving)."""

from __future__ import annotations

import re

import pytest
from support.projects import DEFAULT, MINIMAL, AnswerSet, rendered_project


@pytest.mark.parametrize("answer_set", [DEFAULT, MINIMAL], ids=lambda a: a.id)
def test_generated_suite_passes_without_skips(answer_set: AnswerSet, tmp_path_factory):
    project = rendered_project(answer_set, tmp_path_factory)
    done = project.run("pytest", "-m", "slow or not slow", "-p", "no:cacheprovider", "-q", check=False)
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-5000:]
    assert re.fullmatch(r"\d+ passed in [\d.]+s(?: \(\S+\))?", summary), summary
