from agentgym.tasks.swe.issue import clean_message, write_issue
from agentgym.tasks.swe.mutate import OPERATORS, Mutation, apply_mutations, find_mutations

SOURCE = '''"""Module docstring."""

LIMIT = 10


def clamp(value, low, high):
    """Clamp value."""
    if value < low:
        return low
    total = value + 1
    result = max(low, min(value, high))
    return result


def flag(items):
    found = False
    for item in items:
        found = item in (1, 2)
    return True
'''


def test_every_operator_finds_sites_and_edits_only_its_lines():
    found = find_mutations("mod.py", SOURCE)
    assert {m.operator for m in found} == set(OPERATORS)
    for mutation in found:
        mutated = apply_mutations(SOURCE, [mutation])
        assert mutated != SOURCE
        before, after = SOURCE.splitlines(), mutated.splitlines()
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
        assert not changed or changed[0] + 1 >= mutation.start
        assert mutation.function in ("clamp", "flag")  # module-level code and docstrings are left alone


def test_specific_mutations_are_minimal_text_edits():
    by_op = {}
    for m in find_mutations("mod.py", SOURCE):
        by_op.setdefault(m.operator, []).append(m)
    flips = {(m.original.strip(), m.mutated.strip()) for m in by_op["flip_compare"]}
    assert ("if value < low:", "if value >= low:") in flips
    assert ("found = item in (1, 2)", "found = item not in (1, 2)") in flips
    swaps = {m.mutated.strip() for m in by_op["swap_args"]}
    assert "result = max(min(value, high), low)" in swaps
    assert "result = max(low, min(high, value))" in swaps
    assert ("return True", "return False") in {
        (m.original.strip(), m.mutated.strip()) for m in by_op["wrong_return"]
    }
    assert "total = value + 2" in {m.mutated.strip() for m in by_op["off_by_one"]}
    assert "found = True" in {m.mutated.strip() for m in by_op["change_constant"]}
    removed = {m.original.strip() for m in by_op["remove_statement"]}
    assert "total = value + 1" in removed and all(m.mutated == "" for m in by_op["remove_statement"])


def test_apply_rejects_a_mismatch_and_reverses_exactly():
    mutation = next(m for m in find_mutations("mod.py", SOURCE) if m.operator == "flip_compare")
    buggy = apply_mutations(SOURCE, [mutation])
    undo = Mutation(
        mutation.path, "undo", mutation.start, mutation.end, mutation.mutated, mutation.original, ""
    )
    assert apply_mutations(buggy, [undo]) == SOURCE
    try:
        apply_mutations(buggy, [mutation])
    except ValueError as exc:
        assert "does not match" in str(exc)
    else:
        raise AssertionError("applying a mutation to the wrong text must fail")
    assert Mutation.from_dict(mutation.to_dict()) == mutation


def test_unparsable_source_has_no_sites():
    assert find_mutations("bad.py", "def broken(:\n") == []


def test_issue_text_describes_behaviour_without_the_changed_line():
    mutation = next(m for m in find_mutations("pkg/mod.py", SOURCE) if m.operator == "flip_compare")
    messages = {
        "tests/test_mod.py::test_a": "AssertionError: assert 3 == 1\n  at /work/repo/pkg/mod.py:8: in clamp"
    }
    text = write_issue("pkg", "1.0", [mutation], ["tests/test_mod.py::test_a"], messages)
    assert "`pkg.mod.clamp`" in text and "assert 3 == 1" in text and "1 check of" in text
    assert mutation.original.strip() not in text and mutation.mutated.strip() not in text
    assert "mod.py:8" not in text
    assert clean_message("x" * 1000).endswith("...")
    # Object addresses vary between runs: stripped, so a rebuild writes the same issue text.
    assert clean_message("assert 1 == f(<function g at 0x7f2398992200>)") == "assert 1 == f(<function g>)"
