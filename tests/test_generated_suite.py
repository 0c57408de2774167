"""The generated project's own test suite, all markers, once per session (default answers)."""

from __future__ import annotations

import re

from conftest import Project


def test_generated_suite_passes_without_skips(default_project: Project):
    done = default_project.run(
        "pytest", "-m", "slow or not slow", "-p", "no:cacheprovider", "-q", check=False
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-5000:]
    assert re.fullmatch(r"\d+ passed in [\d.]+s(?: \(\S+\))?", summary), summary
