"""The shipped labelled case set: well-formed, documented, and (slow) passed by the math verifier."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from agentgym.verifiers.base import list_verifiers
from agentgym.verifiers.evaluation import DEFAULT_CASES, evaluate, load_cases

KNOWN_NAMES = {"exact", "numeric", "math", "choice", "set", "format", "json", "judge", "hybrid"}
README = Path(DEFAULT_CASES).with_name("README.md")


@pytest.fixture(scope="module")
def cases():
    return load_cases(DEFAULT_CASES)


def test_the_file_is_well_formed(cases):
    assert len(cases) >= 300
    lines = [line for line in DEFAULT_CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(cases)
    for line, case in zip(lines, cases, strict=True):
        record = json.loads(line)
        assert isinstance(record["label"], bool), case.id
        assert case.id and case.category and record.get("note"), f"line {case.line} needs id, category, note"
        assert case.verifier in KNOWN_NAMES, f"line {case.line}: unknown verifier {case.verifier!r}"


def test_the_spread_covers_every_verifier_with_both_labels(cases):
    by_verifier = Counter(c.verifier for c in cases)
    assert by_verifier["math"] >= 180
    for name in by_verifier:
        labels = {c.label for c in cases if c.verifier == name}
        assert labels == {True, False}, f"{name} needs cases of both labels"
    assert len(by_verifier) >= 6


def test_judge_attacks_are_labelled_false_for_math_and_hybrid(cases):
    attacks = [c for c in cases if c.category == "judge_attack" and c.verifier in ("math", "hybrid")]
    assert attacks and not any(c.label for c in attacks)
    math = {c.response for c in attacks if c.verifier == "math"}
    hybrid = {c.response for c in attacks if c.verifier == "hybrid"}
    assert math == hybrid and len(math) >= 30
    for key in ("", ":", "{", "Thought process:", "Solution", "Let's solve this problem step by step."):
        assert key in math, f"master key {key!r} missing"


def test_hostile_inputs_are_present(cases):
    hostile = [c for c in cases if c.category == "hostile"]
    assert max(len(c.response) for c in hostile) >= 100_000
    assert any("2^{30^{5}}" in c.response for c in hostile)
    assert any(c.response.count("{") >= 3_000 for c in hostile)


def test_readme_documents_every_category_and_verifier(cases):
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    missing = {c.category for c in cases} - documented
    assert not missing, f"categories not described in {README.name}: {sorted(missing)}"
    assert {c.verifier for c in cases} <= documented


def test_every_verifier_named_by_the_cases_is_registered(cases):
    missing = {c.verifier for c in cases} - set(list_verifiers())
    if missing:
        pytest.skip(f"verifiers not registered yet: {', '.join(sorted(missing))}")


@pytest.mark.slow
def test_the_math_verifier_passes_the_math_cases(cases):
    if "math" not in list_verifiers():
        pytest.skip("the 'math' verifier is not registered yet")
    report = evaluate([c for c in cases if c.verifier == "math"], concurrency=8)
    m = report.overall
    wrong = [f"{r.case.id}: {r.outcome} {r.verdict.error or ''}" for r in report.mistakes()]
    assert m.fp == 0, wrong
    assert m.accuracy >= 0.98, wrong
