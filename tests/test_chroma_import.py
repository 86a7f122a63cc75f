"""chromadb is imported without the `overrides` package's signature checks (store/client.py), which
cost a quarter of its import on every ingest and search: the store still works, and a program that
uses `overrides` itself keeps its checks afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CHECK = """
import sys
import overrides
kept = overrides.override, overrides.overrides
from pipeline.indexing.store.client import import_chromadb, local_client
chromadb = import_chromadb()
assert (overrides.override, overrides.overrides) == kept, "the decorators were not put back"
assert import_chromadb() is chromadb
client = local_client(__import__("pathlib").Path(sys.argv[1]))
collection = client.get_or_create_collection("checks", embedding_function=None)
collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["first", "second"])
found = collection.query(query_embeddings=[[0.9, 0.1]], n_results=1)
print(found["documents"][0][0])

class Base:
    def speak(self, words: str) -> str:
        return words

try:
    class Wrong(Base):
        @overrides.override
        def speak(self, words: int, louder: bool) -> str:
            return str(words)
except TypeError:
    print("checked")
"""


@pytest.mark.fast
def test_chroma_store_works_and_override_checks_stay_for_others(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "index")], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["first", "checked"]
