"""`copier update` across the move to rooms: carry your edits of moved modules to their new homes.

The template moved most of the package into subpackages (pipeline.py -> model.py, ci.py ->
pr_check/check.py, ...). copier deletes a file the new template no longer has, even one you
edited; this migration, which copier runs after the update, three-way merges your last committed
version of each moved module (git HEAD) into its new file: base = the old template's version (from
copier's clone of the template), theirs = the new file. Modules you never edited are left alone. A
merge that conflicts leaves git's conflict markers in the new file and says so. It does nothing on
later updates (HEAD no longer has the old files).

The data dictionary moved from code (schema.py) to data (schema.yaml): a schema.py you edited
(by hand or with adopt_data) is converted into schema.yaml, read with `ast`, never imported.

    python scripts/migrate_layout.py --module NAME --template PATH --from REF
"""

from __future__ import annotations

import argparse
import ast
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


def column_entry(call: ast.Call, constants: dict[str, object]) -> dict[str, object]:
    """One `pa.Column(...)` of an old schema.py as a schema.yaml entry."""

    def value(node: ast.expr) -> object:
        return constants[node.id] if isinstance(node, ast.Name) else ast.literal_eval(node)

    entry: dict[str, object] = {"type": call.args[0].id if call.args and isinstance(call.args[0], ast.Name) else "str"}
    checks = call.args[1:] + [k.value for k in call.keywords if k.arg == "checks"]
    for check in checks:
        for node in ast.walk(check):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "isin":
                    entry["categories"] = [str(item) for item in value(node.args[0])]
                elif node.func.attr == "in_range":
                    entry["range"] = [value(node.args[0]), value(node.args[1])]
    keywords = {k.arg: value(k.value) for k in call.keywords if k.arg in ("nullable", "description", "metadata")}
    if keywords.get("nullable"):
        entry["nullable"] = True
    if (keywords.get("metadata") or {}).get("sensitive"):
        entry["sensitive"] = True
    if keywords.get("description"):
        entry["description"] = keywords["description"]
    return entry


def schema_yaml_from_code(source: str) -> str | None:
    """schema.yaml text for an old schema.py's RAW_SCHEMA, or None if it has none."""
    import yaml

    tree = ast.parse(source)
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "RAW_SCHEMA" and isinstance(node.value, ast.Call) and node.value.args:
                columns = node.value.args[0]
                schema_name = next((ast.literal_eval(k.value) for k in node.value.keywords if k.arg == "name"), "raw")
                entries = {
                    ast.literal_eval(key): column_entry(call, constants)
                    for key, call in zip(columns.keys, columns.values, strict=True)
                    if isinstance(call, ast.Call)
                }
                header = "# The data dictionary, converted from schema.py by scripts/migrate_layout.py.\n"
                body = {"name": schema_name, "columns": entries}
                return header + yaml.safe_dump(
                    body, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
                )
            try:
                constants[name] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return None


def convert_schema(package: Path, template: Path, version_from: str) -> None:
    """Your data dictionary in schema.py (edited since the old template) becomes schema.yaml."""
    yours = git_show("HEAD", (package / "schema.py").as_posix())
    if yours is None or "RAW_SCHEMA = pa.DataFrameSchema(" not in yours:
        return  # already the schema.yaml layout
    if yours == git_show(version_from, f"{PACKAGE_IN_TEMPLATE}/schema.py", cwd=template):
        return  # the penguins dictionary, unedited: the new template's schema.yaml holds it
    converted = schema_yaml_from_code(yours)
    if converted is None:
        print(f"migrate_layout: could not read RAW_SCHEMA in your {package / 'schema.py'}; write schema.yaml by hand")
        return
    (package / "schema.yaml").write_text(converted, encoding="utf-8")
    # schema.py is template code now (it reads schema.yaml): the new version, not a merge with yours.
    loader = template / PACKAGE_IN_TEMPLATE / "schema.py"
    (package / "schema.py").write_text(loader.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"migrate_layout: your data dictionary is now {package / 'schema.yaml'} (schema.py only reads it)")


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
    convert_schema(package, args.template, args.version_from)
    if conflicts:
        print(f"migrate_layout: resolve the conflict markers in {', '.join(conflicts)}", file=sys.stderr)
    return 0  # conflicts are for the user to resolve, as in any copier update


if __name__ == "__main__":
    raise SystemExit(main())
