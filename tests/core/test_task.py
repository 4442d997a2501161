import pytest

from agentgym.core.errors import TaskError, VerifierError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict


def test_task_id_is_the_content_hash_of_family_and_spec():
    a = Task("puzzles", {"x": [1, 2]}, answer=1)
    b = Task("puzzles", {"x": [1, 2]}, answer=1, meta={"seed": 3})
    c = Task("puzzles", {"x": [2, 1]}, answer=1)
    assert a.id == b.id != c.id
    assert len(a.id) == 64 and hash(a) == hash(b)


def test_task_round_trips_and_detects_tampering():
    t = Task("puzzles", {"q": "2+2"}, answer=4, difficulty={"level": 1})
    assert Task.from_dict(t.to_dict()) == t
    forged = t.to_dict() | {"spec": {"q": "2+3"}}
    with pytest.raises(TaskError, match="content hash"):
        Task.from_dict(forged)


def test_task_is_frozen_and_copies_its_inputs():
    spec = {"q": [1]}
    t = Task("puzzles", spec)
    spec["q"].append(2)
    assert t.spec == {"q": [1]}
    with pytest.raises(AttributeError):
        t.family = "x"


def test_task_rejects_non_json_content_and_bad_family():
    with pytest.raises(TaskError):
        Task("puzzles", {"f": object()})
    with pytest.raises(TaskError):
        Task("a/b", {})


def test_verdict_bounds_and_unscored():
    with pytest.raises(VerifierError):
        Verdict(1.5, True, "x")
    with pytest.raises(VerifierError):
        Verdict(float("nan"), False, "x")
    v = Verdict.failed("judge", "endpoint down")
    assert v.unscored and v.score == 0.0 and not v.passed
    assert Verdict.from_dict(v.to_dict()) == v


def test_a_task_with_lone_surrogates_is_built_with_them_replaced_and_the_same_id_as_the_clean_text():
    from agentgym.core.task import Task

    dirty = Task("puzzles", {"q": "a\ud800b"}, answer="\udcff", meta={"m": "\ud83d"})
    clean = Task("puzzles", {"q": "a\ufffdb"}, answer="\ufffd", meta={"m": "\ufffd"})
    assert dirty.spec == {"q": "a\ufffdb"} and dirty.answer == "\ufffd" and dirty.meta == {"m": "\ufffd"}
    assert dirty.id == clean.id and dirty == clean
    assert Task("puzzles", {"q": "é ✓"}).spec == {"q": "é ✓"}  # valid text is kept as it is
