"""The long-conversation builder (scripts/long_conversations.py) makes interviews that behave like
real ones where the speech allows it: the interviewer asks, the customer answers (no model: fast)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))  # long_conversations: the benchmark's builder of long conversations
import long_conversations  # noqa: E402
from long_conversations import SR, Unit  # noqa: E402


def _unit(person: str, text: str, seconds: float, rng: np.random.Generator) -> Unit:
    samples = (0.05 * rng.standard_normal(int(seconds * SR))).astype(np.float32)
    words = text.split()
    step = seconds / len(words)
    return Unit(person, samples, [(i * step, (i + 1) * step, f" {w}") for i, w in enumerate(words)])


@pytest.mark.fast
def test_only_the_interviewer_asks_when_both_people_have_a_question_among_their_units():
    """Before, each person's units were drawn at random: a customer whose few seconds of real speech
    held one question asked it 28-50 times in a 15 min interview while the interviewer asked none,
    and the roles (who asks) flipped for a reason no real interview has."""
    rng = np.random.default_rng(0)
    units = {
        person: [
            _unit(person, "so what did you say yesterday?", 2.0, rng),
            _unit(person, "we moved the export to the night run", 3.0, rng),
            _unit(person, "the report was late again this week", 4.0, rng),
            _unit(person, "yeah", 0.6, rng),
        ]
        for person in ("asker", "answerer")
    }
    talk = long_conversations.interview(units, ["asker", "answerer"], 5, seed=3, name="t", part="DEV")
    questions = [person for _, _, text, person in talk.words if text.strip().endswith("?")]
    asker_words = sum(person == "asker" for *_, person in talk.words)
    assert questions and set(questions) == {"asker"}
    assert len(questions) >= 5 and asker_words < len(talk.words) / 2
