import itertools

import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.task import Task
from agentgym.registry import unwrap
from agentgym.tasks.base import BufferedUniform
from agentgym.tasks.puzzles.knights_knaves import (
    KnightsKnavesGenerator,
    Truth,
    _sample,
    negate,
    parse_roles,
    render,
)
from agentgym.tasks.registry import make_generator
from agentgym.verifiers.rule.answer import AnswerFormatError

GEN_ID = "puzzles/knights_knaves"
ENV_ID = "puzzles/knights-knaves-v0"


def holds(s, roles):
    """Direct recursive semantics, independent of the bitmask implementation."""
    op = s[0]
    if op == "knight":
        return roles[s[1]]
    if op == "knave":
        return not roles[s[1]]
    if op == "same":
        return roles[s[1]] == roles[s[2]]
    if op == "different":
        return roles[s[1]] != roles[s[2]]
    if op == "not":
        return not holds(s[1], roles)
    values = [holds(p, roles) for p in s[1:]]
    return (
        {"and": all, "or": any}[op](values)
        if op in ("and", "or")
        else ((not values[0]) or values[1] if op == "if" else values[0] == values[1])
    )


def solutions(task):
    n = len(task.spec["names"])
    out = []
    for roles in itertools.product([False, True], repeat=n):
        if all(holds(s, roles) == roles[speaker] for speaker, s in task.spec["statements"]):
            out.append(["knight" if r else "knave" for r in roles])
    return out


@pytest.mark.parametrize("seed", range(40))
def test_solution_is_unique_and_oracle_consistent(seed):
    one_each = seed % 4 == 3
    gen = make_generator(
        GEN_ID, n_people=2 + seed % 5, depth=1 + seed % 3, width=2 + seed % 2, one_statement_each=one_each
    )
    task = gen.generate(seed, seed % 7)
    assert solutions(task) == [task.answer]  # brute force, independent semantics
    speakers = [speaker for speaker, _ in task.spec["statements"]]
    assert speakers[: gen.config.n_people] == list(range(gen.config.n_people))  # everyone speaks first
    if one_each:
        assert speakers == list(range(gen.config.n_people))
    assert gen.verify(task, gen.reference_response(task)).score == 1.0
    assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    corrupt = gen.verify(task, gen.corrupt_response(task, np.random.default_rng(seed)))
    assert corrupt.score < 1.0 and "format_error" not in corrupt.details and corrupt.details["feedback"]
    assert (
        "format_error" not in gen.verify(task, gen.random_response(task, np.random.default_rng(seed))).details
    )


def test_truth_tables_match_direct_semantics():
    truth = Truth(3)
    s = ["iff", ["or", ["knight", 0], ["same", 1, 2]], ["not", ["if", ["knave", 2], ["different", 0, 1]]]]
    m = truth.mask(s)
    for a in range(8):
        roles = [bool(a >> i & 1) for i in range(3)]
        assert bool(m >> a & 1) == holds(s, roles)


def test_negate_is_the_complement_and_keeps_the_shape():
    truth, draw = Truth(4), BufferedUniform(np.random.default_rng(0), 128)
    for _ in range(300):
        s = _sample(draw, 4, 0, 3, 3)
        assert truth.mask(negate(s)) == truth.full ^ truth.mask(s)
    assert negate(["and", ["knight", 0], ["same", 1, 2]]) == ["or", ["knave", 0], ["different", 1, 2]]
    assert negate(["if", ["knight", 0], ["knave", 1]]) == ["and", ["knight", 0], ["knight", 1]]


def test_determinism_and_golden_id():
    gen = KnightsKnavesGenerator()
    assert gen.generate(5, 2) == gen.generate(5, 2)
    assert gen.generate(5, 2).id != gen.generate(5, 3).id
    task = gen.generate(0, 0)
    assert task.id == "357de92bd378bd2df20d3b2f883534599b6bea5fc16c2e29d61360a16ca5ba6e"
    assert task.answer == ["knave", "knight", "knave"]


@pytest.mark.parametrize("level", range(KnightsKnavesGenerator.n_levels()))
def test_every_difficulty_level_generates_unique_puzzles(level):
    gen = KnightsKnavesGenerator.at_level(level)
    for i in range(5):
        task = gen.generate(13, i)
        assert len(task.spec["names"]) == gen.config.n_people
        assert solutions(task) == [task.answer]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"n_people": 1}, "n_people"),
        ({"n_people": 13}, "n_people"),
        ({"depth": 0}, "depth"),
        ({"width": 1}, "width"),
        ({"width": "2"}, "width"),
        ({"one_statement_each": "yes"}, "one_statement_each"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        KnightsKnavesGenerator(**config)


NAMES = ["Alice", "Ben", "Clara"]


@pytest.mark.parametrize(
    "body",
    [
        "Alice: knight\nBen: knave\nClara: knight",
        "alice: KNIGHT, ben: Knave, clara: knight",
        "Alice is a knight, Ben is a knave, and Clara is a knight.",
        "Alice - knight; Ben - knave; Clara - knight",
        "Alice and Clara are knights; Ben is a knave",
        "Alice is a knight. Ben is not a knight. Clara is a knight.",
        "Knights: Alice, Clara\nKnaves: Ben",
        "Ben: knave\nClara: knight\nAlice: knight",
        "Alice: knight\nBen: liar\nClara: knight",
    ],
)
def test_accepted_answer_formats(body):
    assert parse_roles(body, NAMES) == [1, 0, 1]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("Alice: knight\nBen: knave", "no role .* Clara"),
        ("Alice: knight\nBen: knave\nClara: knight\nAlice: knave", "both roles"),
        ("knight knave knight", "no role"),
        ("", "no role"),
    ],
)
def test_rejected_answer_formats(body, match):
    with pytest.raises(AnswerFormatError, match=match):
        parse_roles(body, NAMES)


def _task():
    spec = {
        "generator": GEN_ID,
        "names": NAMES,
        "statements": [[0, ["knave", 1]], [1, ["same", 0, 2]], [2, ["knight", 0]]],
    }
    return Task(family="puzzles", spec=spec, answer=["knave", "knight", "knave"])


def test_verify_scores_wrong_and_unreadable_answers():
    gen = KnightsKnavesGenerator()
    task = _task()
    assert solutions(task) == [task.answer]
    assert gen.verify(task, "<answer>Alice: knave, Ben: knight, Clara: knave</answer>").passed
    wrong = gen.verify(task, "<answer>Alice: knight, Ben: knave, Clara: knight</answer>")
    assert wrong.score == 0.0 and wrong.details["fraction_correct"] == 0.0
    assert wrong.details["feedback"] == (
        'under your answer Ben is a knave, yet their statement "Alice and Clara are of the same kind" is true'
    )
    for response in ("Alice: knight", "<answer>Alice: knight", "<answer>" + "x" * 200_000 + "</answer>"):
        assert gen.verify(task, response).details["format_error"]


def test_prompt_speaks_in_first_person_and_renders_negations():
    assert render(["knight", 1], NAMES, 1) == "I am a knight"
    assert render(["not", ["knight", 0]], NAMES, 1) == "Alice is a knave"
    assert render(["not", ["same", 0, 1]], NAMES, 2) == "Alice and Ben are of different kinds"
    assert render(["if", ["and", ["knight", 0], ["knave", 2]], ["same", 0, 1]], NAMES, 1) == (
        "if (Alice is a knight and Clara is a knave) then Alice and I are of the same kind"
    )
    text = KnightsKnavesGenerator().prompt(_task())
    assert 'Alice says: "Ben is a knave."' in text and "Who is a knight" in text


def test_env_passes_check_env_and_oracle_wins():
    check_env(ENV_ID)
    env = agentgym.make(ENV_ID, difficulty={"n_people": 5, "depth": 3})
    env.reset(seed=0)
    _, reward, terminated, *_ = env.step(unwrap(env).oracle_action())
    assert reward == 1.0 and terminated
