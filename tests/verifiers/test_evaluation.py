import asyncio
import json
import time

import pytest
from typer.testing import CliRunner

from agentgym.cli.verifiers_cmd import parse_options, verifiers_app
from agentgym.core.errors import ConfigError, UnknownIdError
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier, register_verifier
from agentgym.verifiers.evaluation import (
    CaseResult,
    EvalCase,
    evaluate,
    load_cases,
    metrics_of,
    parse_case,
)

HERE = "tests.verifiers.test_evaluation"


class EchoVerifier(Verifier):
    """Passes when the stripped response equals str(answer); "ERROR" is unscored, "RAISE" raises."""

    name = "evaltest-echo"

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    def _verify(self, task, response):
        if response == "ERROR":
            return Verdict.failed(self.name, "stand-in error")
        if response == "RAISE":
            raise RuntimeError("stand-in crash")
        text = response if self.strict else response.strip()
        ok = text == str(task.answer)
        return Verdict(float(ok), ok, self.name, {"seen": text})


class SlowVerifier(Verifier):
    """Sleeps past its own 0.2 s limit: every verdict is unscored."""

    name = "evaltest-slow"
    timeout_s = 0.2

    async def _averify(self, task, response):
        await asyncio.sleep(5)
        return Verdict(1.0, True, self.name)


class SpecVerifier(Verifier):
    """Passes when the task carries the case's question and spec."""

    name = "evaltest-spec"

    def _verify(self, task, response):
        ok = task.spec.get("question") == "why?" and task.spec.get("k") == [1, 2] and task.answer == {"a": 1}
        return Verdict(float(ok), ok, self.name)


class CountingVerifier(Verifier):
    """Records the most calls in flight at once."""

    name = "evaltest-count"
    active = 0
    peak = 0

    async def _averify(self, task, response):
        cls = type(self)
        cls.active += 1
        cls.peak = max(cls.peak, cls.active)
        await asyncio.sleep(0.03)
        cls.active -= 1
        return Verdict(1.0, True, self.name)


for _cls in (EchoVerifier, SlowVerifier, SpecVerifier, CountingVerifier):
    register_verifier(_cls.name, f"{HERE}:{_cls.__name__}")

ECHO_ROWS = [
    ("a", True),  # TP
    ("a", True),  # TP
    ("b", False),  # TN
    ("b", False),  # TN
    (" b ", False),  # TN
    ("a", False),  # FP
    ("b", True),  # FN
    ("ERROR", True),  # unscored
]


def write_cases(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def one_case(tmp_path, response, verifier="evaltest-echo"):
    row = {"verifier": verifier, "answer": "a", "response": response, "label": True}
    return write_cases(tmp_path / "c.jsonl", [row])


@pytest.fixture
def synthetic(tmp_path):
    rows = [
        {"id": f"e{i}", "verifier": "evaltest-echo", "answer": "a", "response": resp, "label": label,
         "category": "echo"}
        for i, (resp, label) in enumerate(ECHO_ROWS)
    ]  # fmt: skip
    rows.append({"id": "s0", "verifier": "evaltest-slow", "answer": "a", "response": "a", "label": False})
    return write_cases(tmp_path / "cases.jsonl", rows)


def test_metrics_are_counted_right_with_unscored_apart(synthetic):
    report = evaluate(load_cases(synthetic), concurrency=4)
    echo = report.per_verifier["evaltest-echo"]
    assert (echo.tp, echo.tn, echo.fp, echo.fn, echo.unscored) == (2, 3, 1, 1, 1)
    assert (echo.positives, echo.negatives) == (4, 4)
    assert echo.accuracy == pytest.approx(5 / 8)  # the unscored case counts as an error
    assert echo.fpr == pytest.approx(1 / 4)
    assert echo.fnr == pytest.approx(1 / 4)  # the unscored positive is not a false negative
    slow = report.per_verifier["evaltest-slow"]
    assert (slow.cases, slow.unscored, slow.fp, slow.tn) == (1, 1, 0, 0)
    overall = report.overall
    assert (overall.cases, overall.unscored) == (9, 2)
    assert overall.accuracy == pytest.approx(5 / 9)
    assert overall.fpr == pytest.approx(1 / 5)
    assert report.per_category["echo"].cases == 8 and report.per_category["-"].cases == 1
    assert [r.case.id for r in report.results] == [f"e{i}" for i in range(8)] + ["s0"]
    assert [r.outcome for r in report.mistakes()] == ["fp", "fn", "unscored", "unscored"]


def test_a_verifier_that_overruns_its_limit_is_cut_off_and_unscored(synthetic):
    start = time.perf_counter()
    report = evaluate(load_cases(synthetic))
    assert time.perf_counter() - start < 3
    slow = report.results[-1]
    assert slow.outcome == "unscored" and "timed out" in slow.verdict.error


def test_a_verifier_that_raises_is_unscored_not_a_crash(tmp_path):
    path = one_case(tmp_path, "RAISE", "evaltest-echo")
    (result,) = evaluate(load_cases(path)).results
    assert result.outcome == "unscored" and "stand-in crash" in result.verdict.error


def test_rates_are_none_without_cases_of_that_label():
    case = EvalCase("evaltest-echo", "a", "a", True)
    m = metrics_of([CaseResult(case, Verdict(1.0, True, "x"), 0.1)])
    assert (m.accuracy, m.fnr, m.fpr) == (1.0, 0.0, None)
    assert metrics_of([]).accuracy is None


def test_question_and_spec_reach_the_task(tmp_path):
    row = {"verifier": "evaltest-spec", "answer": {"a": 1}, "response": "", "label": True,
           "question": "why?", "spec": {"k": [1, 2]}, "extra": "kept and ignored"}  # fmt: skip
    report = evaluate(load_cases(write_cases(tmp_path / "c.jsonl", [row])))
    assert report.results[0].outcome == "tp"


def test_options_reach_the_verifier_and_unused_options_are_rejected(tmp_path):
    path = one_case(tmp_path, " a", "evaltest-echo")
    cases = load_cases(path)
    assert evaluate(cases).results[0].outcome == "tp"
    assert evaluate(cases, options={"evaltest-echo": {"strict": True}}).results[0].outcome == "fn"
    with pytest.raises(ConfigError, match="no case uses: math"):
        evaluate(cases, options={"math": {}})


def test_case_options_build_their_own_verifier_and_override_shared_ones(tmp_path):
    rows = [
        {"verifier": "evaltest-echo", "answer": "a", "response": " a", "label": True},
        {
            "verifier": "evaltest-echo",
            "answer": "a",
            "response": " a",
            "label": True,
            "options": {"strict": True},
        },
        {
            "verifier": "evaltest-echo",
            "answer": "a",
            "response": " a",
            "label": True,
            "options": {"strict": False},
        },
    ]
    cases = load_cases(write_cases(tmp_path / "c.jsonl", rows))
    assert [r.outcome for r in evaluate(cases).results] == ["tp", "fn", "tp"]
    shared = evaluate(cases, options={"evaltest-echo": {"strict": True}})
    assert [r.outcome for r in shared.results] == ["fn", "fn", "tp"]
    bad = write_cases(tmp_path / "bad.jsonl", [{**rows[0], "options": {"nope": 1}}])
    with pytest.raises(ConfigError, match=r"line 1: verifier 'evaltest-echo'.*nope"):
        evaluate(load_cases(bad))


def test_concurrency_is_bounded_and_every_result_is_reported(tmp_path):
    rows = [{"verifier": "evaltest-count", "answer": 1, "response": str(i), "label": True} for i in range(12)]
    cases = load_cases(write_cases(tmp_path / "c.jsonl", rows))
    CountingVerifier.peak = 0
    seen = []
    report = evaluate(cases, concurrency=3, on_result=seen.append)
    assert CountingVerifier.peak == 3
    assert len(seen) == 12 and report.overall.tp == 12
    with pytest.raises(ConfigError, match="concurrency"):
        evaluate(cases, concurrency=0)


def test_unknown_verifier_names_fail_before_running(tmp_path):
    path = one_case(tmp_path, "a", "evaltest-ecco")
    with pytest.raises(UnknownIdError, match="did you mean 'evaltest-echo'"):
        evaluate(load_cases(path))


def test_report_json_has_per_case_details_on_request(synthetic):
    report = evaluate(load_cases(synthetic))
    plain = json.loads(json.dumps(report.to_dict()))
    assert "results" not in plain
    assert plain["overall"]["unscored"] == 2 and plain["verifiers"]["evaltest-echo"]["fp"] == 1
    rows = json.loads(json.dumps(report.to_dict(details=True)))["results"]
    assert [r["outcome"] for r in rows][:2] == ["tp", "tp"]
    assert rows[0]["line"] == 1 and rows[0]["details"] == {"seen": "a"}


BAD_LINES = [
    ("{not json", "line 2: invalid JSON"),
    ('["a list"]', "line 2: a case must be a JSON object"),
    ('{"verifier": "x", "answer": 1, "response": "r"}', "line 2: missing field.*label"),
    (
        '{"verifier": "x", "answer": 1, "response": "r", "label": "true"}',
        "line 2: 'label' must be true or false",
    ),
    ('{"verifier": "x", "answer": 1, "response": "r", "label": 1}', "line 2: 'label' must be true or false"),
    ('{"verifier": "x", "answer": 1, "response": 5, "label": true}', "line 2: 'response' must be a string"),
    ('{"verifier": "", "answer": 1, "response": "r", "label": true}', "line 2: 'verifier' must be"),
    (
        '{"verifier": "x", "answer": 1, "response": "r", "label": true, "spec": [1]}',
        "line 2: 'spec' and 'options' must be",
    ),
    ('{"verifier": "x", "answer": 1, "response": "r", "label": true, "question": 3}', "line 2: 'question'"),
    (
        '{"verifier": "x", "answer": 1, "response": "r", "label": true, "options": 3}',
        "line 2: 'spec' and 'options'",
    ),
    (
        '{"verifier": "x", "answer": 1, "response": "r", "label": true, "id": "a"}',
        "line 2: id 'a' repeats line 1",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_lines_are_rejected_with_their_line_number(tmp_path, line, message):
    good = '{"id": "a", "verifier": "x", "answer": 1, "response": "r", "label": true}'
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(ConfigError, match=message):
        load_cases(path)


def test_blank_lines_keep_line_numbers_and_empty_or_missing_files_fail(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('\n\n{"verifier": "x", "answer": 1, "response": "r", "label": false}\n\n')
    (case,) = load_cases(path)
    assert case.line == 3 and case.label is False
    path.write_text("\n \n")
    with pytest.raises(ConfigError, match="holds no cases"):
        load_cases(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_cases(tmp_path / "missing.jsonl")
    assert parse_case({"verifier": "x", "answer": None, "response": "", "label": True, "id": 7}).id == "7"


def test_parse_options():
    assert parse_options(["judge.model=gpt", "judge.retries=3", "math.strict=true"]) == {
        "judge": {"model": "gpt", "retries": 3},
        "math": {"strict": True},
    }
    with pytest.raises(ConfigError, match=r"VERIFIER\.KEY=VALUE"):
        parse_options(["strict=true"])


def invoke(*args):
    return CliRunner().invoke(verifiers_app, list(args))


def test_cli_eval_json_and_details(synthetic):
    result = invoke("eval", "--cases", str(synthetic), "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cases"] == 9 and data["overall"]["accuracy"] == pytest.approx(5 / 9)
    assert "results" not in data
    detailed = json.loads(invoke("eval", "-c", str(synthetic), "--json", "--details", "--no-progress").output)
    assert len(detailed["results"]) == 9


def test_cli_eval_filters_tables_and_fail_under(synthetic):
    result = invoke("eval", "-c", str(synthetic), "--verifier", "evaltest-echo", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "evaltest-echo" in result.output and "evaltest-slow" not in result.output
    assert "mistakes (3 of 3)" in result.output  # FP, FN and the unscored case
    assert invoke("eval", "-c", str(synthetic), "-v", "evaltest-echo", "--fail-under", "0.9").exit_code == 1
    details = invoke("eval", "-c", str(synthetic), "-v", "evaltest-echo", "--details", "--no-progress")
    assert "per category" in details.output and "verdicts" in details.output


def test_cli_options_reach_the_verifier(tmp_path):
    path = one_case(tmp_path, " a ", "evaltest-echo")
    loose = invoke("eval", "-c", str(path), "--json", "--no-progress")
    strict = invoke("eval", "-c", str(path), "-o", "evaltest-echo.strict=true", "--json", "--no-progress")
    assert json.loads(loose.output)["overall"]["tp"] == 1
    assert json.loads(strict.output)["overall"]["fn"] == 1


def test_cli_as_runs_cases_through_another_verifier(synthetic):
    args = ["-v", "evaltest-slow", "--as", "evaltest-echo", "--json", "--no-progress"]
    result = invoke("eval", "-c", str(synthetic), *args)
    data = json.loads(result.output)
    assert list(data["verifiers"]) == ["evaltest-echo"] and data["overall"]["fp"] == 1
    row = {
        "verifier": "evaltest-echo",
        "answer": 1,
        "response": "x",
        "label": True,
        "options": {"strict": True},
    }
    path = write_cases(synthetic.with_name("opts.jsonl"), [row])
    counted = invoke("eval", "-c", str(path), "--as", "evaltest-count", "--json", "--no-progress")
    assert json.loads(counted.output)["overall"]["tp"] == 1  # the echo-only option was dropped


def test_cli_errors_are_config_errors(tmp_path, synthetic):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"verifier": "x"}\n')
    result = invoke("eval", "--cases", str(bad))
    assert isinstance(result.exception, ConfigError) and "line 1" in str(result.exception)
    result = invoke("eval", "--cases", str(synthetic), "--category", "nope")
    assert isinstance(result.exception, ConfigError)


@pytest.fixture
def main_with_verifiers():
    """``agentgym.cli.main.main`` with the verifiers group mounted (as the lead mounts it)."""
    from agentgym.cli.main import app, main

    group = next((g for g in app.registered_groups if g.name == "verifiers"), None)
    if group is not None:
        yield main
        return
    app.add_typer(verifiers_app, name="verifiers")
    try:
        yield main
    finally:
        app.registered_groups[:] = [g for g in app.registered_groups if g.typer_instance is not verifiers_app]


def test_main_entry_point_prints_one_line_and_exits_2(tmp_path, capsys, main_with_verifiers):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"verifier": "x", "answer": 1, "response": "r", "label": true}\n{oops\n')
    with pytest.raises(SystemExit) as exc:
        main_with_verifiers(["verifiers", "eval", "--cases", str(bad)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "line 2" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exc:
        main_with_verifiers(["verifiers", "eval", "--cases", str(tmp_path / "missing.jsonl")])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err


def test_main_entry_point_runs_eval(synthetic, capsys, main_with_verifiers):
    main_with_verifiers(["verifiers", "eval", "--cases", str(synthetic), "--json", "--no-progress"])
    assert json.loads(capsys.readouterr().out)["cases"] == 9


def test_cli_list_shows_registered_verifiers():
    result = invoke("list", "--json")
    assert "evaltest-echo" in json.loads(result.output)


def test_math_verify_baseline_is_the_raw_library_call():
    pytest.importorskip("math_verify")
    from agentgym.verifiers.evaluation import math_verify_baseline

    assert math_verify_baseline("\\frac{1}{2}", "so \\boxed{0.5}") is True
    assert math_verify_baseline("3", "\\boxed{4}") is False
