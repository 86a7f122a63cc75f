"""The tree follows the data flow: a stage imports only from the stages before it (README, "How it is built")."""

from __future__ import annotations

import ast

import pytest
from conftest import REPO

# Every test here loads no model: all of it runs in make test-fast.
pytestmark = pytest.mark.fast

# In the order a recording flows; the shared top-level modules come first.
STAGES = ["shared", "sources", "hearing", "indexing", "finding", "jobs", "web"]


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
