"""The whole lifecycle on real public tables (tests/support/corpus.py), not on penguins.

Three tables run in the default session (.ci/run): the widest (ames, 75 columns), the biggest
(diamonds, 53,940 rows) and one with dates (epa2021), two at a time, in the quicker CI form: the
generated suite once, after `dvc exp run -S` (the state a user following the README is in),
without its slow tests (the default project's suite runs those), and only the degrading PR (its
FAIL is what depends on the data). The rest of the corpus is marked `corpus`, which the default
session deselects (pytest.ini): `pytest -m corpus` runs them in full, and `nox -s corpus` runs every
table in full and writes docs/CORPUS.md.
"""

from __future__ import annotations

import pytest
from support.corpus import REQUIRED, TABLES, Record, coverage, run_lifecycle, run_lifecycles

CI_TABLES = [table for table in TABLES if table.ci]


def test_the_corpus_covers_every_required_property():
    covered = {key for table in TABLES for key in coverage(table, table.load())}
    assert len(TABLES) >= 8
    assert [key for key in REQUIRED if key not in covered] == []
    assert {key for table in CI_TABLES for key in coverage(table, table.load())} >= {
        "50k+ rows",
        "70+ columns",
        "dates or timestamps",
    }


@pytest.fixture(scope="module")
def ci_records(tmp_path_factory) -> dict[str, Record]:
    records = run_lifecycles(
        CI_TABLES, tmp_path_factory.mktemp("corpus"), workers=2, suites=1, docs_pr=False, markers="not slow"
    )
    return {record.table: record for record in records}


def report(record: Record) -> None:
    timings = ", ".join(f"{step.name}: {step.seconds:.0f}s" for step in record.steps)
    print(f"{record.table} {record.rows}x{record.columns}: {timings}")
    assert not record.failures, record.report()


@pytest.mark.parametrize("name", [table.name for table in CI_TABLES])
def test_lifecycle_holds_on_a_ci_table(ci_records, name):
    report(ci_records[name])


@pytest.mark.corpus
@pytest.mark.parametrize("table", [table for table in TABLES if not table.ci], ids=lambda t: t.name)
def test_lifecycle_holds_on_a_corpus_table(table, tmp_path_factory):
    report(run_lifecycle(table, tmp_path_factory.mktemp(table.name)))
