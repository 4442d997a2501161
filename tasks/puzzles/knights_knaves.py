"""Knights and knaves: knights always tell the truth, knaves always lie; say who is which.

A role for each person is planted, then statements are drawn (each person speaks once first, then
randomly chosen speakers add more) until the planted assignment is the only one consistent with all
of them; with ``one_statement_each=True`` each person says exactly one thing and the whole round is
redrawn until it is unique (reasoning-gym's shape). A statement is a tree of atoms (``X is a
knight/knave``, ``X and Y are the same/different kind``) joined by not / and / or / if-then /
if-and-only-if, up to ``depth`` levels and ``width`` branches (reasoning-gym's ``depth_constraint``
and ``width_constraint``). Truth tables are bitmasks over all 2^n assignments, so checking
consistency and uniqueness is a handful of integer operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import BufferedUniform, DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import AnswerFormatError, extract_answer

KIND = "knights_knaves"
MAX_PEOPLE = 12
MAX_RESPONSE_CHARS = 100_000
MAX_DRAWS = 200
MAX_PUZZLE_DRAWS = 20_000
NAMES = (
    "Alice", "Ben", "Clara", "Daniel", "Emma", "Felix", "Hannah", "Isaac", "Julia", "Kevin", "Laura",
    "Marcus", "Nora", "Oscar", "Paula", "Quentin", "Rosa", "Simon", "Tara", "Victor", "Wendy", "Yusuf",
)  # fmt: skip
ROLES = ("knave", "knight")  # index 1 = knight = tells the truth
_ROLE_WORDS = {"knight": 1, "knights": 1, "knave": 0, "knaves": 0, "liar": 0, "liars": 0}
_NEGATIONS = {"not", "no", "isn", "isnt"}
_WORD = re.compile(r"[a-z]+")

Statement = list[Any]  # ["knight", i] | ["same", i, j] | ["not", s] | ["and", s, ...] | ["if", a, b] ...


@dataclass(frozen=True)
class KnightsKnavesConfig(GeneratorConfig):
    """``n_people`` islanders; statements nest up to ``depth`` levels with up to ``width`` branches."""

    n_people: int = 3
    depth: int = 2
    width: int = 2
    #: True: exactly one statement per person, redrawn until unique (reasoning-gym's shape);
    #: False: speakers add statements after the first round until the solution is unique.
    one_statement_each: bool = False

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(2 <= self.n_people <= MAX_PEOPLE, self, "n_people", f"must be in [2, {MAX_PEOPLE}]")
        require(1 <= self.depth <= 5, self, "depth", "must be in [1, 5]")
        require(2 <= self.width <= 5, self, "width", "must be in [2, 5]")
        require(isinstance(self.one_statement_each, bool), self, "one_statement_each", "must be a bool")


class Truth:
    """Truth tables over the 2^n role assignments (bit ``a`` of a mask: the value under assignment ``a``)."""

    def __init__(self, n: int) -> None:
        size = 1 << n
        self.full = (1 << size) - 1
        # knight[i]: the assignments a (bit i of a set) where person i is a knight: runs of 2^i
        # zeros then 2^i ones, repeated; the repeat is a multiplication by 1 + 2^p + 2^2p + ...
        self.knight = []
        for i in range(n):
            run = 1 << i
            period = 2 * run
            self.knight.append((self.full // ((1 << period) - 1)) * (((1 << run) - 1) << run))

    def mask(self, s: Statement) -> int:
        """The truth table of statement ``s``."""
        op = s[0]
        if op == "knight":
            return self.knight[s[1]]
        if op == "knave":
            return self.full ^ self.knight[s[1]]
        if op == "same":
            return self.full ^ self.knight[s[1]] ^ self.knight[s[2]]
        if op == "different":
            return self.knight[s[1]] ^ self.knight[s[2]]
        if op == "not":
            return self.full ^ self.mask(s[1])
        parts = [self.mask(p) for p in s[1:]]
        if op == "and":
            out = self.full
            for m in parts:
                out &= m
            return out
        if op == "or":
            out = 0
            for m in parts:
                out |= m
            return out
        if op == "if":
            return (self.full ^ parts[0]) | parts[1]
        if op == "iff":
            return self.full ^ parts[0] ^ parts[1]
        raise TaskError(f"unknown statement type {op!r}")

    def consistent(self, speaker: int, s: Statement) -> int:
        """The assignments in which ``speaker`` saying ``s`` is consistent (true iff a knight)."""
        return self.full ^ self.knight[speaker] ^ self.mask(s)


def _sample(draw: BufferedUniform, n: int, speaker: int, depth: int, width: int) -> Statement:
    """A random statement by ``speaker`` (reasoning-gym's grammar, plus same/different atoms)."""
    dice = draw.below(6)
    if depth == 1 or dice == 0:
        if draw.below(4) == 0:
            i = draw.below(n)
            j = (i + 1 + draw.below(n - 1)) % n
            return ["same" if draw.below(2) else "different", min(i, j), max(i, j)]
        while True:
            who, role = draw.below(n), ROLES[draw.below(2)]
            if not (who == speaker and role == "knave"):  # "I am a knave" is a paradox
                return [role, who]
    if dice == 1:
        return ["not", _sample(draw, n, speaker, depth - 1, width)]
    count = 2 + draw.below(width - 1) if dice in (2, 3) else 2
    parts: list[Statement] = []
    while len(parts) < count:
        part = _sample(draw, n, speaker, depth - 1, width)
        if part not in parts:
            parts.append(part)
    return [("and", "or", "if", "iff")[dice - 2], *parts]


_FLIP = {"knight": "knave", "knave": "knight", "same": "different", "different": "same"}


def negate(s: Statement) -> Statement:
    """A statement true exactly when ``s`` is false, negations pushed inwards (De Morgan)."""
    op = s[0]
    if op in _FLIP:
        return [_FLIP[op], *s[1:]]
    if op == "not":
        return s[1]
    if op in ("and", "or"):
        return ["or" if op == "and" else "and", *(negate(p) for p in s[1:])]
    if op == "if":
        return ["and", s[1], negate(s[2])]
    return ["iff", s[1], negate(s[2])]


def generate_statements(
    draw: BufferedUniform, truth: Truth, planted: list[int], depth: int, width: int, one_each: bool = False
) -> list[list[Any]] | None:
    """``[speaker, statement]`` pairs whose only consistent assignment is ``planted`` (None: retry)."""
    n = len(planted)
    where = sum(r << i for i, r in enumerate(planted))
    target = 1 << where
    candidates = truth.full
    out: list[list[Any]] = []
    speakers = list(range(n))
    while candidates != target or len(out) < n:
        if len(out) >= (n if one_each else 3 * n):
            return None
        speaker = speakers[len(out)] if len(out) < n else draw.below(n)
        for _ in range(MAX_DRAWS):
            s = _sample(draw, n, speaker, depth, width)
            m = truth.mask(s)
            if (m >> where & 1) != planted[speaker]:  # a knight's statement must be true, a knave's false
                s, m = negate(s), truth.full ^ m
            allowed = truth.full ^ truth.knight[speaker] ^ m
            # Ruling something out (the first round: anything that is not a tautology).
            if allowed & candidates != candidates or (len(out) < n and allowed != truth.full):
                break
        else:
            return None
        candidates &= allowed
        out.append([speaker, s])
    return out


class KnightsKnavesGenerator(TaskGenerator):
    """Knights-and-knaves puzzles with exactly one solution."""

    id = "puzzles/knights_knaves"
    config_cls = KnightsKnavesConfig
    difficulty_attrs = (
        DifficultyAttr("n_people", (2, 3, 4, 4, 5, 5, 6), "number of islanders"),
        DifficultyAttr("depth", (1, 2, 2, 3, 2, 3, 3), "nesting depth of a statement"),
        DifficultyAttr("width", (2, 2, 2, 2, 3, 3, 3), "most branches of an and/or"),
    )
    instructions = (
        "You solve knights-and-knaves puzzles. Every islander is a knight, who always tells the truth, "
        "or a knave, who always lies: everything a knight says is true and everything a knave says is "
        "false. 'or' is inclusive. Work out who is a knight and who is a knave."
    )
    answer_format = (
        "Inside answer tags, give one line per person, 'Name: knight' or 'Name: knave', naming every "
        "person, e.g. <answer>\nAlice: knight\nBen: knave\n</answer>"
    )
    config: KnightsKnavesConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        draw = BufferedUniform(rng, 128)
        truth = Truth(c.n_people)
        for _ in range(MAX_PUZZLE_DRAWS):
            planted = [draw.below(2) for _ in range(c.n_people)]
            statements = generate_statements(draw, truth, planted, c.depth, c.width, c.one_statement_each)
            if statements is not None:
                break
        else:
            raise TaskError(f"could not make a unique knights-and-knaves puzzle for {c}")
        names = list(NAMES)
        for j in range(c.n_people):  # partial Fisher-Yates: n distinct names
            r = j + draw.below(len(names) - j)
            names[j], names[r] = names[r], names[j]
        spec = {"names": names[: c.n_people], "statements": statements}
        return spec, [ROLES[r] for r in planted]

    def prompt(self, task: Task) -> str:
        """The islanders and what each of them says."""
        names = task.spec["names"]
        lines = [f"You meet {len(names)} islanders: {', '.join(names)}."]
        said: set[int] = set()
        for speaker, s in task.spec["statements"]:
            verb = "also says" if speaker in said else "says"
            said.add(speaker)
            lines.append(f'{names[speaker]} {verb}: "{render(s, names, speaker, top=True)}."')
        lines.append("Who is a knight and who is a knave?")
        return "\n".join(lines)

    def verify(self, task: Task, response: str) -> Verdict:
        """Every person's role must match the unique solution."""
        return verify_knights_knaves(task, response)

    def reference_response(self, task: Task) -> str:
        """The planted roles, one line per person."""
        return _answer(task.spec["names"], task.answer)

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The solution with one person's role flipped (wrong, as the solution is unique)."""
        roles = list(task.answer)
        i = int(rng.integers(len(roles)))
        roles[i] = "knave" if roles[i] == "knight" else "knight"
        return _answer(task.spec["names"], roles)

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """Uniformly random roles."""
        return _answer(task.spec["names"], [ROLES[int(b)] for b in rng.integers(0, 2, len(task.answer))])


def _answer(names: list[str], roles: list[str]) -> str:
    return "<answer>\n" + "\n".join(f"{n}: {r}" for n, r in zip(names, roles, strict=True)) + "\n</answer>"


def render(s: Statement, names: list[str], speaker: int, top: bool = False) -> str:
    """English for statement ``s`` said by ``speaker`` (who speaks of themself as 'I')."""
    op = s[0]
    if op in ("knight", "knave"):
        return f"I am a {op}" if s[1] == speaker else f"{names[s[1]]} is a {op}"
    if op in ("same", "different"):
        i, j = s[1], s[2]
        who = (
            f"{names[j if i == speaker else i]} and I" if speaker in (i, j) else f"{names[i]} and {names[j]}"
        )
        return f"{who} are of the same kind" if op == "same" else f"{who} are of different kinds"
    if op == "not":
        inner = s[1]
        if inner[0] in ("knight", "knave", "same", "different"):
            flipped = {"knight": "knave", "knave": "knight", "same": "different", "different": "same"}
            return render([flipped[inner[0]], *inner[1:]], names, speaker)
        return f"it is not the case that ({render(inner, names, speaker)})"
    parts = [render(p, names, speaker) if _atomic(p) else f"({render(p, names, speaker)})" for p in s[1:]]
    if op in ("and", "or"):
        return f" {op} ".join(parts)
    if op == "if":
        return f"if {parts[0]} then {parts[1]}"
    return f"{parts[0]} if and only if {parts[1]}"


def _atomic(s: Statement) -> bool:
    return s[0] in ("knight", "knave", "same", "different") or (s[0] == "not" and _atomic(s[1]))


def parse_roles(body: str, names: list[str]) -> list[int]:
    """Roles (1 knight, 0 knave) per person from ``Name: knight`` lines or similar prose.

    Accepted: ``Name: knight``, ``Name is a knave``, ``Name - Knight``, ``A and B are knights``,
    ``Name is not a knight``, and headed lists (``Knights: A, B. Knaves: C``), case-insensitively.
    """
    index = {n.lower(): i for i, n in enumerate(names)}
    words = _WORD.findall(body.lower())
    first = next((w for w in words if w in index or w in _ROLE_WORDS), None)
    roles: dict[int, int] = {}

    def assign(person: int, role: int) -> None:
        if roles.get(person, role) != role:
            raise AnswerFormatError(f"{names[person]} is given both roles")
        roles[person] = role

    if first in _ROLE_WORDS:  # headed lists: a role word, then the people who have it
        current = None
        for w in words:
            if w in _ROLE_WORDS:
                current = _ROLE_WORDS[w]
            elif w in index and current is not None:
                assign(index[w], current)
    else:
        pending: list[int] = []
        negate = False
        for w in words:
            if w in index:
                pending.append(index[w])
            elif w in _NEGATIONS and pending:
                negate = True
            elif w in _ROLE_WORDS and pending:
                for person in pending:
                    assign(person, _ROLE_WORDS[w] ^ negate)
                pending, negate = [], False
    missing = [names[i] for i in range(len(names)) if i not in roles]
    if missing:
        raise AnswerFormatError(f"no role (knight or knave) given for {', '.join(missing)}")
    return [roles[i] for i in range(len(names))]


def verify_knights_knaves(task: Task, response: str) -> Verdict:
    """Score 1.0 when every person's role is right; the fraction right is a metric only."""
    names = task.spec["names"]
    try:
        if len(response) > MAX_RESPONSE_CHARS:
            raise AnswerFormatError(f"the reply is longer than {MAX_RESPONSE_CHARS} characters")
        roles = parse_roles(extract_answer(response), names)
    except AnswerFormatError as exc:
        return Verdict(0.0, False, kind=KIND, details={"format_error": str(exc)})
    expected = [_ROLE_WORDS[r] for r in task.answer]
    right = sum(a == b for a, b in zip(roles, expected, strict=True))
    details: dict[str, Any] = {"fraction_correct": right / len(names)}
    if right == len(names):
        return Verdict(1.0, True, kind=KIND, details=details)
    truth = Truth(len(names))
    assignment = sum(r << i for i, r in enumerate(roles))
    for speaker, s in task.spec["statements"]:
        if not truth.consistent(speaker, s) >> assignment & 1:
            role, value = ("knight", "false") if roles[speaker] else ("knave", "true")
            said = render(s, names, speaker)
            details["feedback"] = (
                f'under your answer {names[speaker]} is a {role}, yet their statement "{said}" is {value}'
            )
            break
    return Verdict(0.0, False, kind=KIND, details=details)
