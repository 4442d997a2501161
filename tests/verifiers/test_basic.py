import pytest

from agentgym.core.errors import VerifierError
from agentgym.verifiers.base import make_verifier, reference_task, register_verifier
from agentgym.verifiers.rule.basic import (
    ChoiceVerifier,
    ExactVerifier,
    NumericVerifier,
    SetVerifier,
    normalize_text,
    set_elements,
)


def passed(verifier, answer, response, **spec):
    verdict = verifier.verify(reference_task(answer, **spec), response)
    assert verdict.error is None, verdict.error
    return verdict.passed


# ---- exact -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<answer>Paris</answer>", True),
        ("<answer> paris. </answer>", True),
        (r"\boxed{\text{Paris}}", True),
        ("<answer>PARIS</answer>", True),
        ("<answer>Lyon</answer>", False),
        ("<answer>Paris, France</answer>", False),
        ("Paris", False),  # no final answer
    ],
)
def test_exact(response, expected):
    assert passed(ExactVerifier(), "Paris", response) is expected


def test_exact_options():
    assert not passed(ExactVerifier(case_sensitive=True), "Paris", "<answer>paris</answer>")
    assert not passed(ExactVerifier(), "New York", "<answer>New-York!</answer>")
    assert passed(ExactVerifier(punctuation=True), "New York", "<answer>New York!</answer>")
    assert passed(ExactVerifier(), ["NYC", "New York"], "<answer>nyc</answer>")
    assert normalize_text("  A \n  b.  ") == "a b"


# ---- numeric -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold", "response", "expected"),
    [
        (1234, r"\boxed{1,234}", True),
        (1234, r"\boxed{1234.0}", True),
        (1234, r"\boxed{1234.0001}", False),  # integers are exact
        (10**30 + 1, r"\boxed{1000000000000000000000000000000}", False),
        (10**30 + 1, r"\boxed{1000000000000000000000000000001}", True),
        (3.14159, r"\boxed{3.141592}", True),  # within rel 1e-6
        (3.14159, r"\boxed{3.1416}", False),
        (0.0015, r"\boxed{1.5e-3}", True),
        (0.0015, r"\boxed{1.5 \times 10^{-3}}", True),
        (0.0015, r"\boxed{1.5 \times 10^{-4}}", False),
        ("3/4", r"\boxed{0.75}", True),
        ("3/4", r"\boxed{\frac{3}{4}}", True),
        (-2.5, r"\boxed{-\frac{5}{2}}", True),
        (12, "<answer>12 apples</answer>", True),
        (18.9, r"<answer>\$18.90</answer>", True),
        (12, "<answer>twelve</answer>", False),
        (12, "<answer>12 or 13</answer>", False),
        ("50%", r"\boxed{0.5}", True),
        ("50%", r"\boxed{50}", True),
        (0.5, r"\boxed{50\%}", True),
    ],
)
def test_numeric(gold, response, expected):
    assert passed(NumericVerifier(), gold, response) is expected


def test_numeric_tolerances_and_options():
    assert passed(NumericVerifier(rel_tol=1e-4), 3.14159, r"\boxed{3.14}") is False
    assert passed(NumericVerifier(rel_tol=1e-2), 3.14159, r"\boxed{3.14}") is True
    assert passed(NumericVerifier(abs_tol=0.5), 10.0, r"\boxed{10.4}") is True
    assert passed(NumericVerifier(integer_exact=False, rel_tol=1e-3), 1000, r"\boxed{1000.5}") is True
    assert passed(NumericVerifier(percent="value"), "50%", r"\boxed{50}") is False
    with pytest.raises(VerifierError):
        NumericVerifier(rel_tol=-1)
    verdict = NumericVerifier().verify(reference_task("not a number"), r"\boxed{3}")
    assert verdict.unscored


# ---- choice ------------------------------------------------------------------------------------

OPTIONS = {"options": ["12", "15", "18", "21"]}


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        ("B", True),
        ("(B)", True),
        ("B)", True),
        ("B.", True),
        ("Answer: B", True),
        ("The correct answer is (B)", True),
        ("**B**", True),
        (r"\text{B}", True),
        (r"\textbf{(B)}", True),
        ("b", True),
        ("B. 15", True),
        ("15", True),  # the gold option's text
        ("C", False),
        ("B. 18", False),  # letter and text disagree
        ("B or C", False),
        ("B, C", False),
        ("E", False),  # not an option
        ("Because", False),
        ("18", False),
    ],
)
def test_choice(final, expected):
    assert passed(ChoiceVerifier(), "B", f"<answer>{final}</answer>", **OPTIONS) is expected


def test_choice_references_and_option_formats():
    assert passed(ChoiceVerifier(), 1, r"\boxed{B}", **OPTIONS)  # a 0-based index
    assert passed(ChoiceVerifier(), "15", r"\boxed{B}", **OPTIONS)  # the option text
    assert passed(ChoiceVerifier(), "(C)", r"\boxed{C}")  # no options: any letter
    assert passed(ChoiceVerifier(), "A", "<answer>Paris</answer>", choices={"A": "Paris", "B": "Rome"})
    assert ChoiceVerifier().verify(reference_task("42", **OPTIONS), r"\boxed{B}").unscored
    assert ChoiceVerifier().verify(reference_task("B", options="AB"), r"\boxed{B}").unscored


# ---- set ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        (r"\{1, -2\}", True),
        (r"\left\{ -2, 1 \right\}", True),
        ("x = 1, x = -2", True),
        (r"x = 1 \text{ or } x = -2", True),
        ("-2, 1", True),
        (r"1 \text{ and } -2", True),
        (r"\frac{2}{2}, -2.0", True),
        ("1, 1, -2", True),  # a repeated element is still the same set
        ("1", False),  # subset
        ("1, -2, 3", False),  # superset
        (r"x = \pm 1", False),
        ("1, 2", False),
        (r"\emptyset", False),
    ],
)
def test_set(final, expected):
    assert passed(SetVerifier(), [1, -2], rf"\boxed{{{final}}}") is expected


def test_set_with_symbolic_elements_and_string_references():
    verifier = SetVerifier()
    assert passed(verifier, r"\sqrt{2}, -\sqrt{2}", r"\boxed{\pm\sqrt{2}}")
    assert passed(verifier, r"\{\sqrt{2}, -\sqrt{2}\}", r"\boxed{-\sqrt{2}, \sqrt{2}}")
    assert passed(verifier, r"\frac{1+\sqrt{5}}{2}, 3", r"\boxed{3, \frac{\sqrt{5}+1}{2}}")
    assert not passed(verifier, r"\sqrt{2}, -\sqrt{2}", r"\boxed{\sqrt{2}}")
    assert not passed(verifier, r"\sqrt{2}, -\sqrt{2}", r"\boxed{\sqrt{2}, -\sqrt{3}}")
    assert passed(verifier, [], r"\boxed{\emptyset}")
    assert passed(verifier, [], r"<answer>no solution</answer>")
    assert passed(verifier, ["(1, 2)", "(3, 4)"], r"\boxed{(3,4), (1,2)}")
    assert not passed(verifier, ["(1, 2)", "(3, 4)"], r"\boxed{(4,3), (1,2)}")


def test_set_element_splitting():
    assert set_elements(r"x \in \{1, 2\}") == ["1", "2"]
    assert set_elements(r"\pm 3") == ["3", "-3"]
    assert set_elements("(1, 2), (3, 4)") == ["(1, 2)", "(3, 4)"]
    with pytest.raises(ValueError):
        set_elements(",".join(["1"] * 200))
    verdict = SetVerifier(max_elements=3).verify(reference_task([1]), r"\boxed{1,2,3,4,5}")
    assert not verdict.passed and "more than 3" in verdict.details["format_error"]


@pytest.fixture
def isolated_registry(monkeypatch):
    """Register into a copy of the registry so that other tests see the real one."""
    import agentgym.verifiers.builtin  # noqa: F401  (the built-ins register into the real registry first)
    from agentgym.verifiers import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


def test_registration_lines_work(isolated_registry):
    for name, cls in [("exact", ExactVerifier), ("numeric", NumericVerifier), ("choice", ChoiceVerifier)]:
        register_verifier(name, f"agentgym.verifiers.rule.basic:{cls.__name__}")
        assert isinstance(make_verifier(name), cls)
    register_verifier("set", "agentgym.verifiers.rule.basic:SetVerifier")
    assert isinstance(make_verifier("set", max_elements=10), SetVerifier)
