"""`copier update` across the move to rooms: carry your edits of moved modules to their new homes.

The template moved most of the package into subpackages (pipeline.py -> model.py, ci.py ->
pr_check/check.py, ...). copier deletes a file the new template no longer has, even one you
edited; this migration, which copier runs after the update, three-way merges your last committed
version of each moved module (git HEAD) into its new file: base = the old template's version (from
copier's clone of the template), theirs = the new file. Modules you never edited are left alone. A
merge that conflicts leaves git's conflict markers in the new file and says so. It does nothing on
later updates (HEAD no longer has the old files).

    python scripts/migrate_layout.py --module NAME --template PATH --from REF
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

# Template syntax in the old template's paths, spelled out so this rendered file holds none.
BLOCK_OPEN, BLOCK_CLOSE, VARIABLE_OPEN, VARIABLE_CLOSE = "{" + "%", "%" + "}", "{" * 2, "}" * 2
PACKAGE_IN_TEMPLATE = f"template/src/{VARIABLE_OPEN} module_name {VARIABLE_CLOSE}"
# The old template's file names for the two modules that were rendered only with `serving`.
SERVING_OLD = {
    name: f"{BLOCK_OPEN} if serving {BLOCK_CLOSE}{name}{BLOCK_OPEN} endif {BLOCK_CLOSE}"
    for name in ("serve.py", "load_test.py")
}
# old module -> new file, under src/<module>/
MOVES = {
    "pipeline.py": "model.py",
    "errors.py": "_internal/errors.py",
    "files.py": "_internal/files.py",
    "paths.py": "_internal/paths.py",
    "lineage.py": "_internal/lineage.py",
    "model_store.py": "_internal/model_store.py",
    "scoring.py": "_internal/scoring.py",
    "ci.py": "pr_check/check.py",
    "report.py": "pr_check/report.py",
    "compare.py": "pr_check/compare.py",
    "drift.py": "monitoring/drift.py",
    "prediction_log.py": "monitoring/prediction_log.py",
    "latency.py": "monitoring/latency.py",
    "serve.py": "serving/serve.py",
    "load_test.py": "serving/load_generator.py",
    "adopt_data.py": "data_tools/adopt_data.py",
    "infer_schema.py": "data_tools/infer_schema.py",
    "experiments.py": "data_tools/experiments.py",
}


def git_show(revision: str, path: str, cwd: Path | None = None) -> str | None:
    """The file at `revision`, or None where it does not exist."""
    done = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=cwd, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def merge(new_file: Path, yours: str, base: str) -> bool:
    """Three-way merge into `new_file` (which holds the new template's version); True if clean."""
    with tempfile.TemporaryDirectory() as scratch:
        yours_file, base_file = Path(scratch, "yours"), Path(scratch, "base")
        yours_file.write_text(yours)
        base_file.write_text(base)
        labels = ["-L", "your version", "-L", "old template", "-L", "new template"]
        done = subprocess.run(["git", "merge-file", *labels, str(yours_file), str(base_file), str(new_file)])
        new_file.write_text(yours_file.read_text())
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True)
    parser.add_argument("--template", required=True, type=Path, help="copier's clone of the template")
    parser.add_argument("--from", dest="version_from", required=True, help="the template version updated from")
    args = parser.parse_args(argv)
    package = Path("src") / args.module
    conflicts = []
    for old, new in MOVES.items():
        yours = git_show("HEAD", (package / old).as_posix())
        new_file = package / new
        if yours is None or (package / old).exists() or not new_file.exists():
            continue  # not moved by this update, or nothing of yours to carry
        template_old = f"{PACKAGE_IN_TEMPLATE}/{SERVING_OLD.get(old, old)}"
        base = git_show(args.version_from, template_old, cwd=args.template)
        if base == yours:
            continue  # never edited: the new template's file stands
        if base is None:
            kept = new_file.with_name(new_file.name + ".yours")
            kept.write_text(yours)
            print(f"migrate_layout: {package / old} moved to {new_file}; merge your version by hand from {kept}")
            continue
        if merge(new_file, yours, base):
            print(f"migrate_layout: your edits of {package / old} are now in {new_file}")
        else:
            conflicts.append(str(new_file))
    if conflicts:
        print(f"migrate_layout: resolve the conflict markers in {', '.join(conflicts)}", file=sys.stderr)
    return 0  # conflicts are for the user to resolve, as in any copier update


if __name__ == "__main__":
    raise SystemExit(main())
