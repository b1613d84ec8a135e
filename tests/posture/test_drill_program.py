"""The coach programme's order: which drill unlocks which (posture.drills.program)."""

from __future__ import annotations

from posture.drills import PROGRAM
from posture.drills.program import next_drill, unlocked


def test_unlocking_follows_the_programme():
    assert next_drill(set()) == "cat-cow"
    assert unlocked({"cat-cow"}) == ["cat-cow", "dowel-hinge-kneeling"]
    assert next_drill(set(PROGRAM)) is None
