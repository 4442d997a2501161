import asyncio
import time
from fractions import Fraction

import pytest

from agentgym.core.errors import VerifierError
from agentgym.verifiers.base import make_verifier, reference_task, register_verifier
from agentgym.verifiers.rule.math import MathVerifier, gold_alternatives, quick_equal
from agentgym.verifiers.rule.math_text import clean_answer, floats_close, parse_number, split_top_level

# (reference, boxed answer): equal as mathematics, written differently.
EQUIVALENT = [
    (r"\frac{1}{2}", r"\dfrac{1}{2}"),
    (r"\frac{1}{2}", "0.5"),
    (r"\frac{1}{2}", "1/2"),
    (r"\frac12", r"\tfrac{1}{2}"),
    ("0.75", r"\frac{3}{4}"),
    ("3", "3.0"),
    ("1000", "1,000"),
    ("1000000", "1{,}000{,}000"),
    ("10", "10."),
    (r"2\sqrt{3}", r"\sqrt{12}"),
    (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}"),
    (r"\sqrt{2}", "2^{1/2}"),
    (r"\frac{\pi}{2}", r"\pi/2"),
    (r"3\pi", r"3 \pi"),
    ("90", r"90^\circ"),
    (r"90^\circ", "90"),
    ("[1, 2]", "[1,2]"),
    (r"(-\infty, 3)", r"(-\infty,3)"),
    (r"(-\infty, 3)", "x < 3"),
    ("[2, 5)", "[2,5)"),
    (r"\{1, 2, 3\}", r"\{3, 2, 1\}"),
    ("1, 2, 3", "3, 2, 1"),
    ("3", "x = 3"),
    ("x = 3", "3"),
    ("4", "x=4"),
    ("y = 2x + 3", "y = 3 + 2x"),
    ("y = 2x + 3", "2x - y + 3 = 0"),
    ("x^2 + 2x + 1", "(x+1)^2"),
    (r"\frac{x}{2}", "0.5x"),
    ("3 + 4i", "4i + 3"),
    (r"50\%", "50"),
    (r"50\%", "0.5"),
    (r"\frac{1}{4}", r"25\%"),
    (r"\$18.90", "18.90"),
    ("5", r"5 \text{ cm}"),
    (r"5\text{ cm}^2", "5"),
    ("12", "12 apples"),
    (r"\text{Evelyn}", "Evelyn"),
    ("C", r"\text{C}"),
    (r"\frac{1}{3}", "0.333333"),
    (r"\frac{2}{3}", "0.666667"),
    (r"1.5 \times 10^{-3}", "0.0015"),
    ("0.0015", "1.5e-3"),
    (r"2^{100}", "1267650600228229401496703205376"),
    ("123456789012345678901234567890", "123456789012345678901234567890"),
    (r"\frac{1}{2004!}", r"\frac{1}{2004!}"),
    (r"\infty", r"\infty"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix}1\\2\end{pmatrix}"),
    (r"\frac{3}{5}", r"\frac{6}{10}"),
    (r"\log_2 8", "3"),
    (r"\binom{5}{2}", "10"),
    (r"-\frac{1}{2}", "-0.5"),
    (r"\sqrt{3}", "1.7320508"),
    ("k = 4", "4"),
    (r"\frac{9}{2}", "4.5"),
    (r"\dfrac{-3}{4}", r"-\frac{3}{4}"),
    (r"\frac{1+\sqrt{5}}{2}", r"\frac{\sqrt{5}+1}{2}"),
    (r"\sqrt[3]{2}", r"2^{\frac{1}{3}}"),
    (r"x \geq 2", r"x \ge 2"),
    ("x > 2", "2 < x"),
    (r"(2, \infty)", "x > 2"),
    (r"\{-1, 1\}", r"x = \pm 1"),
    (r"\frac{1}{6}", "0.1666667"),
    ("0.05", r"5\%"),
    (r"\text{yes}", r"\text{Yes}"),
    ("2x+3", "3+2x"),
    (r"\cos x", r"\cos(x)"),
    ("6!", "720"),
    ("10^6", "1000000"),
    ("(1, 2)", "(1,2)"),
    (r"2^{30^{5}}", r"2^{30^{5}}"),
    (r"\frac{1}{3}", r"0.\overline{3}"),
    (r"\frac{1}{6}", r"0.1\overline{6}"),
    (r"\frac{3}{2}", "1 1/2"),
    (r"90^\circ", "90°"),
    (r"\emptyset", r"\varnothing"),
    ("3+4i", "3 + 4 i"),
    ("12", r"12\,\mathrm{cm}"),
    ("12000023", r"12,\!000,\!023"),
    (r"\frac{\pi}{4}", "pi/4"),
    ("x^2", "x**2"),
]
# (reference, boxed answer): close, but different.
DIFFERENT = [
    (r"\frac{1}{2004!}", r"\frac{1}{2006!}"),
    (r"\frac{1}{100!}", r"\frac{1}{101!}"),
    ("1e-8", "2e-8"),
    ("0.00000001", "0.00000002"),
    (r"\frac{1}{2}", r"\frac{1}{3}"),
    (r"2\sqrt{3}", r"3\sqrt{2}"),
    ("x^2", "x^3"),
    ("(1, 2)", "[1, 2]"),
    ("(1, 2]", "(1, 2)"),
    (r"\{1, 2, 3\}", r"\{1, 2\}"),
    ("1, 2, 3", "1, 2"),
    ("-5", "5"),
    ("10^{-3}", "10^{3}"),
    ("100", "1000"),
    ("x = 3", "y = 3"),
    (r"\pi", "3.14"),
    ("e", "2.718"),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}"),
    ("2", r"2 \text{ or } 3"),
    ("2", "2, 3"),
    ("3", "3x"),
    ("123456789012345678901234567890", "123456789012345678901234567891"),
    ("10000000001", "10000000000"),
    (r"\frac{1}{3}", "0.3333"),
    (r"\frac{1}{3}", "0.33"),
    (r"\sqrt{2}", "1.41"),
    ("12345678.9", "12345679"),
    ("5", r"2^{30^{5}}"),
    (r"2^{30^{5}}", r"2^{30^{5}} + 1"),
    ("5", r"9^{9^{9}}"),
    ("2006!", "2005!"),
    ("0", "0.0000001"),
    ("x + 1", "x - 1"),
    (r"\frac{x}{2}", "2x"),
    ("3 + 4i", "3 - 4i"),
    ("(1, 2)", "(2, 1)"),
    ("[1, 3]", "[1, 2]"),
    ("y = 2x + 3", "y = 2x - 3"),
    (r"\text{Evelyn}", "Emily"),
    ("C", "D"),
    (r"\infty", r"-\infty"),
    (r"50\%", "5"),
    ("0.5", "5"),
    (r"\frac{1}{2}", r"\frac{1}{2}x"),
    ("1", "-1"),
    (r"\ln 2", r"\log_{10} 2"),
    (r"\frac{3}{4}", r"\frac{4}{3}"),
    (r"(-\infty, 3)", r"(-\infty, 3]"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 2 \\ 1 \end{pmatrix}"),
    ("6", r"\sqrt{36} + 1"),
    ("0", r"\emptyset"),
    (r"1.5 \times 10^{-3}", r"1.5 \times 10^{-4}"),
    ("2", "1.9999"),
    ("1000", "100"),
    (r"\sqrt{2} + \sqrt{3}", r"\sqrt{5}"),
    ("7", "x = 7, y = 2"),
    (r"\frac{1}{6}", "0.1667"),
    ("x > 2", r"x \geq 2"),
    (r"(2, \infty)", r"x \geq 2"),
    (r"\{-1, 1\}", "x = 1"),
    ("2x + 3", "2y + 3"),
    (r"\sin x", r"\cos x"),
    ("1024", "2^{11}"),
    ("720", "5!"),
    (r"\text{yes}", r"\text{no}"),
    ("1000000", "10^7"),
    ("4.5", "4.55"),
    ("0.05", r"0.5\%"),
    (r"\frac{\pi}{3}", r"\frac{\pi}{6}"),
    ("x^2 - 1", "(x-1)^2"),
    ("1, 2, 3", "1, 2, 3, 4"),
    ("3", "-x = 3"),
    ("6", "2x = 6"),
    ("5", "x + 1 = 5"),
    ("1", "1 1/2"),
    (r"\frac{1}{3}", r"0.\overline{33}4"),
    (r"\{1, 2\}", "x = 1, -x = 2"),
]


@pytest.fixture(scope="module")
def verifier():
    return MathVerifier()


def run_all(verifier, cases, template=r"so the answer is $\boxed{{{}}}$."):
    async def main():
        jobs = [verifier.averify(reference_task(g), template.format(p)) for g, p in cases]
        return await asyncio.gather(*jobs)

    return asyncio.run(main())


def test_equivalent_answers_pass(verifier):
    verdicts = run_all(verifier, EQUIVALENT)
    wrong = [
        (case, v.error, v.details.get("parsed"))
        for case, v in zip(EQUIVALENT, verdicts, strict=True)
        if not v.passed
    ]
    assert not wrong
    assert all(v.score == 1.0 and v.kind == "math" for v in verdicts)


def test_near_misses_fail_without_false_positives(verifier):
    verdicts = run_all(verifier, DIFFERENT)
    wrong = [
        (case, v.details.get("parsed"))
        for case, v in zip(DIFFERENT, verdicts, strict=True)
        if v.passed or v.unscored
    ]
    assert not wrong
    assert all(v.score == 0.0 for v in verdicts)


@pytest.mark.parametrize(
    "response",
    [
        r"\boxed{\frac{1}{2}}",
        r"<answer>\frac{1}{2}</answer>",
        r"<answer>The answer is $\frac{1}{2}$.</answer>",
        r"<think>maybe 1/3?</think><answer>1/2</answer>",
        r"The final answer is $\boxed{0.5}$. I hope it is correct.",
        r"\fbox{1/2}",
        r"\boxed{1/2} so \boxed{0.5}",  # different strings, same value: accepted
    ],
)
def test_answer_wrappers(verifier, response):
    verdict = verifier.verify(reference_task(r"\frac12"), response)
    assert verdict.passed and verdict.error is None


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ("the answer is 1/2", "none"),
        (r"\boxed{1/2} or maybe \boxed{1/3}", "several"),
        (r"\boxed{1/2} hmm wait \boxed{", "unterminated"),
    ],
)
def test_format_failures_score_zero_and_are_not_unscored(verifier, response, reason):
    verdict = verifier.verify(reference_task(r"\frac12"), response)
    assert verdict.score == 0.0 and not verdict.passed and verdict.error is None
    # Conflicting answers are each compared (the reply could only pass if all were equal).
    assert verdict.details.get("reason", verdict.details.get("source")) == reason


def test_reconcile_can_be_switched_off():
    verdict = MathVerifier(reconcile=False).verify(reference_task("0.5"), r"\boxed{1/2} so \boxed{0.5}")
    assert not verdict.passed and verdict.details["reason"] == "conflict"


def test_percent_modes():
    strict = MathVerifier(percent="value")
    assert not strict.verify(reference_task(r"50\%"), r"\boxed{50}").passed
    assert strict.verify(reference_task(r"50\%"), r"\boxed{0.5}").passed
    assert MathVerifier().verify(reference_task(r"50\%"), r"\boxed{50}").passed
    with pytest.raises(VerifierError):
        MathVerifier(percent="sometimes")


def test_list_reference_holds_alternatives_and_bad_references_are_unscored(verifier):
    assert verifier.verify(reference_task([r"\frac{1}{2}", "0.4"]), r"\boxed{0.4}").passed
    assert verifier.verify(reference_task(7), r"\boxed{7}").passed
    for bad in (None, True, {"a": 1}, ""):
        verdict = verifier.verify(reference_task(bad), r"\boxed{7}")
        assert verdict.unscored and verdict.score == 0.0
    assert gold_alternatives(0.25) == ["0.25"]


def test_unreadable_reference_is_unscored(verifier):
    verdict = verifier.verify(reference_task(r"\frac{1}{"), r"\boxed{7}")
    assert verdict.unscored and "cannot be parsed" in verdict.error


def test_huge_powers_finish_fast_and_never_pass(verifier):
    start = time.perf_counter()
    for gold, pred in [
        ("5", r"2^{30^{5}}"),
        ("5", r"9^{9^{9^{9}}}"),
        ("5", r"(10^{10})!"),
        ("5", r"e^{e^{e^{e^{10}}}}"),
    ]:
        verdict = verifier.verify(reference_task(gold), rf"\boxed{{{pred}}}")
        assert not verdict.passed and not verdict.unscored
        assert verdict.details["parsed"][0][1] == "<huge>"
    assert time.perf_counter() - start < 4.0


def test_absurd_answers_are_rejected_before_sympy(verifier):
    deep = "x^{" * 20 + "2" + "}" * 20
    verdict = verifier.verify(reference_task("5"), rf"\boxed{{{deep}}}")
    assert verdict.details["format_error"].startswith("the final answer is nested deeper")
    long = "+".join(["1"] * 600)
    assert "longer than" in verifier.verify(reference_task("5"), rf"\boxed{{{long}}}").details["format_error"]


def test_100kb_response_finishes_quickly(verifier):
    response = "Let me think. " * 7_000 + r"\boxed{\frac{\sqrt{3}}{2}}"
    assert len(response) > 95_000
    start = time.perf_counter()
    assert verifier.verify(reference_task(r"\frac{\sqrt3}{2}"), response).passed
    assert time.perf_counter() - start < 2.0


def test_timeout_is_unscored_and_the_pool_recovers():
    verifier = MathVerifier(compare_timeout_s=1.0)
    verdict = verifier.verify(reference_task("5"), r"\boxed{\sum_{k=1}^{10^{6}} k!}")
    assert verdict.unscored and not verdict.passed and "longer than" in verdict.error
    assert verifier.verify(reference_task(r"\sqrt{2}"), r"\boxed{2^{1/2}}").passed


@pytest.fixture
def isolated_registry(monkeypatch):
    """Register into a copy of the registry so that other tests see the real one."""
    import agentgym.verifiers.builtin  # noqa: F401  (the built-ins register into the real registry first)
    from agentgym.verifiers import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


def test_registration_lines_work(isolated_registry):
    register_verifier("math", "agentgym.verifiers.rule.math:MathVerifier")
    built = make_verifier("math", percent="value")
    assert isinstance(built, MathVerifier) and built.percent == "value"


@pytest.mark.parametrize(
    ("text", "value", "decimal", "percent"),
    [
        ("1,234.5", Fraction(2469, 2), True, False),
        (r"-\frac{3}{4}", Fraction(-3, 4), False, False),
        (r"\dfrac34", Fraction(3, 4), False, False),
        (r"50\%", Fraction(50), False, True),
        ("1.5e-3", Fraction(3, 2000), True, False),
        (r"1.5 \times 10^{-3}", Fraction(3, 2000), True, False),
        (r"\$5.00", Fraction(5), True, False),
        ("1{,}234", Fraction(1234), False, False),
        ("\u22127", Fraction(-7), False, False),
    ],
)
def test_parse_number(text, value, decimal, percent):
    number = parse_number(text)
    assert (number.value, number.decimal, number.percent) == (value, decimal, percent)


@pytest.mark.parametrize("text", ["abc", "1 2", "2^3", "1e999", r"\frac{1}{0}", "1,2", "9" * 5000, ""])
def test_parse_number_rejects_non_numbers(text):
    assert parse_number(text) is None


def test_text_helpers():
    assert clean_answer("$12$ apples.") == "12"
    assert clean_answer(r"**Answer:** $\frac12$") == r"\frac12"
    assert clean_answer("2e-8") == r"2\times 10^{-8}"
    assert clean_answer("5 m") == "5 m"  # a single letter may be a variable
    assert clean_answer("Resulting 5") == "Resulting 5"
    assert split_top_level(r"(1,2), \{3, 4\}, [5,6); 7") == ["(1,2)", r"\{3, 4\}", "[5,6)", "7"]
    assert floats_close(Fraction(1, 3), Fraction("0.333333"))
    assert not floats_close(Fraction("1e-8"), Fraction("2e-8"))
    assert quick_equal("1/2", "0.5") is True and quick_equal("x", "y") is None
