"""The tree follows the data flow: a stage imports only from the stages before it (README, "How it is built")."""

from __future__ import annotations

import ast

import pytest
from conftest import REPO

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

# In the order a recording flows; the shared top-level modules come first.
# evidence/ (highlights, collections, clips, reports) and answering/ (ask) read what finding/ returns.
STAGES = ["shared", "sources", "hearing", "indexing", "finding", "evidence", "answering", "jobs", "web"]


def stage_of(module: str) -> int:
    """'pipeline.hearing.audio' -> the index of hearing; pipeline.config and the like -> shared."""
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else 0


def test_no_stage_imports_a_later_one():
    backwards = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        here = stage_of(".".join(path.relative_to(REPO).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pipeline":
                names = [f"pipeline.{a.name}" for a in node.names] if node.module == "pipeline" else [node.module]
                backwards += [f"{path.relative_to(REPO)}:{node.lineno} imports {n}" for n in names if stage_of(n) > here]
    assert not backwards, "\n".join(backwards)


# Length limits (brief, "Limits that main enforces"): a module a reader can hold whole, a function
# that reads as one step.
MODULE_LINES = 400
FUNCTION_LINES = 60


def too_long(path, root=REPO) -> list[str]:
    """'path: N lines' for the module and 'path:line name(): N lines' for each function (def or async
    def, methods and nested functions included, from the def line to its last line) over the limits."""
    source = path.read_text()
    name = path.relative_to(root).as_posix()
    found = []
    lines = len(source.splitlines())
    if lines > MODULE_LINES:
        found.append(f"{name}: {lines} lines (limit {MODULE_LINES})")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}(): {length} lines (limit {FUNCTION_LINES})")
    return found


def test_no_module_or_function_is_too_long():
    paths = sorted((REPO / "pipeline").rglob("*.py"))
    offenders = [line for p in paths for line in too_long(p)]
    assert not offenders, "too long:\n" + "\n".join(offenders)


def test_the_length_check_counts_defs_methods_and_modules(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(FUNCTION_LINES - 1))  # with its def line: the limit exactly
    (tmp_path / "fits.py").write_text(f"def fits():\n{body}\n")
    (tmp_path / "method.py").write_text(f"class A:\n    async def over(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n        return x0\n")
    (tmp_path / "module.py").write_text("x = 1\n" * (MODULE_LINES + 1))

    assert too_long(tmp_path / "fits.py", tmp_path) == []
    assert too_long(tmp_path / "method.py", tmp_path) == [f"method.py:2 over(): {FUNCTION_LINES + 1} lines (limit {FUNCTION_LINES})"]
    assert too_long(tmp_path / "module.py", tmp_path) == [f"module.py: {MODULE_LINES + 1} lines (limit {MODULE_LINES})"]
