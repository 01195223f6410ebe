"""The architecture is visible in the tree and data flows one way: helpers/ (foundation) -> data -> metrics -> views -> report.

A module may import its own layer and the layers below it, never a layer above (an import
inside ``if TYPE_CHECKING:`` is a type annotation only and does not count). And no two modules
import each other, directly or through others (no import circles, also not through an import
inside a function).
"""
from __future__ import annotations

import ast
from pathlib import Path

from helpers.paths import HELPERS_DIR

ORDER = {"": 0, "data": 1, "metrics": 2, "views": 3, "report": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(HELPERS_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    return ORDER[parts[1]] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ORDER) else 0


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    return skip


def imports(path: Path, top_level_only: bool = False) -> list[tuple[str, int]]:
    """The helpers modules `path` imports, with line numbers (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    known = {module_name(p) for p in HELPERS_DIR.rglob("*.py")}
    out = []
    for node in nodes:
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.append((sub if sub in known else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "helpers"]
    return out


MODULES = sorted(HELPERS_DIR.rglob("*.py"))


#: The old module names kept as aliases (helpers/aliases.py, README "Stable names"): top-level modules that stand
#: for a module of a higher layer, and the benchmarks' names of before they left the package for benchmarks/ (issue
#: 26). They are the only accepted upward links, and each must stay a thin alias.
ALIASES = {"run": "helpers.report.run", "ingest": "helpers.data.ingest", "sample": "helpers.data.sample",
           "warehouse": "helpers.metrics.warehouse", "lab": "helpers.report.lab", "nbtools": "helpers.report.nbtools",
           "bench": "benchmarks.bench", "bench_save": "benchmarks.bench_save", "bench_scale": "benchmarks.bench_scale",
           "report.bench": "benchmarks.bench", "report.bench_save": "benchmarks.bench_save",
           "report.bench_scale": "benchmarks.bench_scale", "report.bench_forecast": "benchmarks.bench_forecast"}
#: The benchmarks live beside the package (benchmarks/, not shipped): above every layer, imported by none.
BENCHMARKS = HELPERS_DIR.parent / "benchmarks"


def test_every_module_is_in_a_layer_folder_or_the_foundation():
    folders = {p.parent.name for p in MODULES if p.parent != HELPERS_DIR}
    assert folders == {"data", "metrics", "views", "report"}
    foundation = sorted(p.stem for p in MODULES if p.parent == HELPERS_DIR and p.stem not in ALIASES)
    assert not [p for p in MODULES if p.parent.name == "report" and f"report.{p.stem}" not in ALIASES
                and p.stem.startswith("bench")]  # the benchmarks left the shipped package
    assert foundation == ["__init__", "aliases", "charset", "cli_help", "config", "errors", "labels", "paths", "settings_schema",
                          "storage", "url_redact", "yamlfile"]


def test_the_old_module_names_are_thin_aliases_and_the_only_upward_links():
    """Each alias is three statements (docstring, import, stand_in) and stands for the module helpers.aliases names;
    helpers.aliases itself imports no helpers module (it loads the new module by name only when asked)."""
    from helpers.aliases import OLD_NAMES

    assert OLD_NAMES == {f"helpers.{stem}": new for stem, new in ALIASES.items()}
    for stem, new in ALIASES.items():
        path = HELPERS_DIR / f"{stem.replace('.', '/')}.py"
        body = ast.parse(path.read_text(encoding="utf-8")).body
        assert [ast.unparse(n) for n in body[1:]] == ["from helpers.aliases import stand_in", "stand_in(__name__, __spec__)"]
        assert new in ast.get_docstring(ast.Module(body=body[:1], type_ignores=[]))
        assert (HELPERS_DIR.parent / f"{new.replace('.', '/')}.py").is_file()
        assert layer(f"helpers.{stem}") < layer(new) if new.startswith("helpers.") else new.startswith("benchmarks.")
    assert imports(HELPERS_DIR / "aliases.py") == []


def test_no_shipped_module_imports_a_benchmark():
    """benchmarks/ stands above the package: helpers imports none of it (only helpers.aliases names it, as text),
    and it is not among the shipped packages (pyproject.toml)."""
    assert sorted(p.stem for p in BENCHMARKS.glob("*.py")) == ["__init__", "attribution_reference", "bench", "bench_attribution",
                                                                 "bench_forecast", "bench_ingest_checks", "bench_save", "bench_scale",
                                                                 "scale_reference"]
    importing = [f"{module_name(p)}:{n.lineno}" for p in MODULES for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                 if isinstance(n, (ast.Import, ast.ImportFrom))
                 and any(m.split(".")[0] == "benchmarks" for m in ([a.name for a in n.names] if isinstance(n, ast.Import)
                                                                  else [n.module or ""]))]
    assert importing == []
    assert "benchmarks" not in (HELPERS_DIR.parent / "pyproject.toml").read_text(encoding="utf-8")


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{module_name(p)}:{line} imports {target}" for p in MODULES
              for target, line in imports(p) if layer(target) > layer(module_name(p))]
    assert upward == []


def test_no_import_circles_at_module_level():
    graph = {module_name(p): {t for t, _ in imports(p)} - {module_name(p)} for p in MODULES}
    circles = []

    def visit(node, stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                circles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, stack + [nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert circles == []


def test_the_layer_test_sees_an_upward_import(tmp_path):
    """The check itself can fail: a metrics module importing a view is caught."""
    fake = HELPERS_DIR / "metrics" / "pipeline.py"
    assert layer(module_name(fake)) == 2 and layer("helpers.views.display") == 3 and layer("helpers.storage") == 0
    src = tmp_path / "x.py"
    src.write_text("from helpers.views import display\nif TYPE_CHECKING:\n    from helpers.report.session import Session\n")
    assert [t for t, _ in imports(src)] == ["helpers.views.display"]
