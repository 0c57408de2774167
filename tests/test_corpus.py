"""The whole lifecycle on real public tables (tests/support/corpus.py), not on penguins.

Three tables run in the default session (.ci/run): the widest (ames, 75 columns), the biggest
(diamonds, 53,940 rows) and one with dates (epa2021), each with the generated suite run once,
after `dvc exp run -S` (the state a user following the README is in). The rest of the corpus is
marked `corpus`, which the default session deselects (pytest.ini): `pytest -m corpus` runs them,
and `nox -s corpus` runs every table with both suites and writes docs/CORPUS.md.
"""

from __future__ import annotations

import pytest
from support.corpus import REQUIRED, TABLES, coverage, run_lifecycle


def test_the_corpus_covers_every_required_property():
    covered = {key for table in TABLES for key in coverage(table, table.load())}
    assert len(TABLES) >= 8
    assert [key for key in REQUIRED if key not in covered] == []
    ci = [table for table in TABLES if table.ci]
    assert {key for table in ci for key in coverage(table, table.load())} >= {
        "50k+ rows",
        "70+ columns",
        "dates or timestamps",
    }


@pytest.mark.parametrize(
    "table",
    [pytest.param(t, id=t.name, marks=() if t.ci else pytest.mark.corpus) for t in TABLES],
)
def test_lifecycle_holds_on_a_real_table(table, tmp_path_factory):
    record = run_lifecycle(table, tmp_path_factory.mktemp(table.name), suites=1 if table.ci else 2)
    timings = ", ".join(f"{step.name}: {step.seconds:.0f}s" for step in record.steps)
    print(f"{table.name} {record.rows}x{record.columns}: {timings}")
    assert not record.failures, record.report()
