"""reasoning-gym envs on representative datasets: posing, scoring, determinism, limits, safety."""

import os
import pickle
import sys
import uuid

import numpy as np
import pytest

pytest.importorskip("reasoning_gym")

import agentgym.environments.rg as rg
from agentgym.checker import check_env
from agentgym.core.task import Task
from agentgym.environments.rg import generator as rg_generator
from agentgym.environments.rg.client import worker
from agentgym.environments.rg.generator import ReasoningGymConfig, generator_class
from agentgym.registry import make, unwrap

# Plain answers, the default scorer, grids, eval/parse_expr scorers behind guards, a metadata
# reference answer, tuple grids, a seeded (size-dependent) dataset and a hash-dependent one.
REPRESENTATIVE = [
    "chain_sum",
    "sudoku",
    "countdown",
    "simple_integration",
    "string_insertion",
    "graph_color",
    "rearc",
    "acre",
    "ransom_note",
    "prime_factorization",
]
GOLDEN = {  # seed 0, index 0 (hash-dependent datasets rely on the worker's PYTHONHASHSEED=0)
    "chain_sum": "8d6a1c235d66762e7defce3d98d2f745ad85a8b6bce27be455af8ff3339b8781",
    "sudoku": "c9ca25058033e8f28abc829f6eccaa825b16c2c90b7b433e97b28800bdc06e67",
    "acre": "20b9aef87d1d099f9f14432090e5a104e811a56ab441d7741326f72ca7905ce9",
    "knights_knaves": "d43e699e3108d58c86aa6a3ab9f08a6bdbd8a41984d3a7332a56cce497a1cfb8",
}
GOLDEN_HASH_DEPENDENT = {
    "ransom_note": "358accd8391b0decde39a9209986045fd8be2d4bd94b54359e20cc96c66e8096",
    "isomorphic_strings": "8978238d385f4c18f94a14b7e8a9a5818771c8b196db53a65017096a52511077",
    "polynomial_multiplication": "b275c2daed046b4ea078812cb6bd63f4193afbbc7e544ed1253b8e3b5aca6434",
}


def tagged(text: str) -> str:
    return f"<answer>{text}</answer>"


@pytest.mark.parametrize("dataset", REPRESENTATIVE)
def test_reset_poses_the_question_and_the_reference_answer_scores_one(dataset):
    env = make(rg.env_id(dataset))
    obs, info = env.reset(seed=3)
    task = unwrap(env).task
    assert obs[0].role == "system" and "<answer>" in obs[0].text
    assert obs[1].role == "user" and obs[1].text == task.spec["question"] and task.family == "rg"
    assert info["task_id"] == task.id and task.spec["dataset"] == dataset
    _, reward, terminated, _, info = env.step(tagged(task.answer))
    assert (reward, terminated, info["verdict"].passed) == (1.0, True, True), info["verdict"]


@pytest.mark.parametrize("dataset", REPRESENTATIVE)
def test_a_wrong_answer_scores_below_one(dataset):
    gen = generator_class(dataset)()
    for seed in range(4):
        task = gen.generate(seed, 1)
        verdict = gen.verify(task, gen.corrupt_response(task, np.random.default_rng(seed)))
        assert verdict.score < 1.0 and not verdict.passed and not verdict.unscored
        assert "format_error" not in verdict.details
        assert gen.verify(task, tagged("zzz " + str(task.answer)[::-1] + " zzz")).score < 1.0


def test_partial_credit_is_reasoning_gyms_score_and_not_a_pass():
    gen = generator_class("chain_sum")()
    task = gen.generate(0, 0)  # answer "3770": the default-style scorer gives len(oracle)/len(answer)
    verdict = gen.verify(task, tagged("about 3770 I think"))
    assert verdict.score == pytest.approx(4 / len("about 3770 I think")) and not verdict.passed
    assert "feedback" in verdict.details


@pytest.mark.parametrize(
    "response", ["no tags at all", "<answer>unterminated", "<answer>" + "1" * 100_001 + "</answer>"]
)
def test_unreadable_responses_are_format_errors_and_the_env_asks_again(response):
    env = make("rg/chain_sum-v0")
    env.reset(seed=0)
    obs, reward, terminated, _, _ = env.step(response)
    assert not terminated and reward == 0.0  # the env's own size cap may answer first
    assert "could not be read" in obs[0].text or "Invalid action" in obs[0].text
    assert gen_verdict("chain_sum", response).details["format_error"]


def gen_verdict(dataset: str, response: str):
    gen = generator_class(dataset)()
    return gen.verify(gen.generate(0, 0), response)


def test_an_answer_the_scorer_cannot_parse_is_a_format_error():
    verdict = gen_verdict("prime_factorization", tagged("two times three"))
    assert "ValueError" in verdict.details["format_error"] and not verdict.unscored


def test_same_seed_and_index_give_the_same_task_and_items_differ():
    gen = generator_class("sudoku")()
    assert gen.generate(7, 3) == generator_class("sudoku")().generate(7, 3)
    assert len({gen.generate(7, i).id for i in range(5)} | {gen.generate(8, 3).id}) == 6


def test_generation_does_not_depend_on_this_process_or_the_worker_instance():
    before = {name: generator_class(name)().generate(0, 0).id for name in GOLDEN_HASH_DEPENDENT}
    worker().close()
    rg_generator._entry_json.cache_clear()
    after = {name: generator_class(name)().generate(0, 0).id for name in GOLDEN_HASH_DEPENDENT}
    assert before == after


@pytest.mark.parametrize("dataset", sorted(GOLDEN))
def test_golden_task_ids(dataset):
    assert generator_class(dataset)().generate(0, 0).id == GOLDEN[dataset]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="str hashing changed in 3.11 (siphash13)")
@pytest.mark.parametrize("dataset", sorted(GOLDEN_HASH_DEPENDENT))
def test_golden_task_ids_of_hash_dependent_datasets(dataset):
    assert generator_class(dataset)().generate(0, 0).id == GOLDEN_HASH_DEPENDENT[dataset]


def test_a_task_scores_from_its_json_alone():
    gen = generator_class("rearc")()
    task = Task.from_dict(pickle.loads(pickle.dumps(gen.generate(2, 0))).to_dict())
    assert gen.verify(task, gen.reference_response(task)).passed


def test_params_reach_the_dataset_and_the_task():
    params = {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1}
    gen = generator_class("chain_sum")(params=params)
    for seed in range(5):
        task = gen.generate(seed, 0)
        assert task.spec["params"]["max_terms"] == 2 and abs(int(task.answer)) <= 18
        assert gen.verify(task, gen.reference_response(task)).passed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"params": {"seed": 1}}, "params"),
        ({"params": {"size": 5}}, "params"),
        ({"params": {"no_such_field": 1}}, "params"),
        ({"params": {"min_terms": 0}}, "params"),
        ({"params": [1]}, "params"),
        ({"params": {"x": object()}}, "params"),
        ({"score_timeout": 0}, "score_timeout"),
        ({"generate_timeout": "1"}, "generate_timeout"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        generator_class("chain_sum")(**overrides)
    assert ReasoningGymConfig().params == {}


def test_a_scorer_past_its_time_limit_gives_an_unscored_verdict_and_the_worker_recovers():
    gen = generator_class("coin_flip")(score_timeout=1.0)
    task = gen.generate(0, 0)
    kills = worker().kills
    verdict = gen.verify(task, tagged("1e99999999"))  # Fraction() builds 10**99999999: minutes of C
    assert verdict.unscored and verdict.error == "scorer timed out" and worker().kills == kills + 1
    assert gen.verify(task, gen.reference_response(task)).passed


@pytest.mark.parametrize(
    ("dataset", "template"),
    [
        ("string_insertion", "__import__('os').system('touch {path}')"),
        ("binary_matrix", "[[__import__('os').system('touch {path}')]]"),
        ("n_queens", "__import__('os').system('touch {path}')"),
        ("spiral_matrix", "__import__('os').system('touch {path}')"),
        ("countdown", "__import__('os').system('touch {path}')"),
        ("puzzle24", "__import__('os').system('touch {path}')"),
        ("polynomial_multiplication", "__import__('os').system('touch {path}')"),
        ("simple_integration", "X.__class__.__base__ + C"),
    ],
)
def test_answers_never_run_as_code(dataset, template, tmp_path):
    path = tmp_path / uuid.uuid4().hex
    verdict = gen_verdict(dataset, tagged(template.format(path=path)))
    assert not os.path.exists(path) and verdict.score == 0.0 and not verdict.passed


def test_an_unevaluated_integral_is_not_an_antiderivative():
    gen = generator_class("simple_integration")()
    task = gen.generate(0, 0)
    integrand, x = task.spec["metadata"]["integrand"], task.spec["metadata"]["variable"]
    assert not gen.verify(task, tagged(f"Integral({integrand}, {x}) + C")).passed


@pytest.mark.parametrize("dataset", ["chain_sum", "string_insertion", "graph_color", "acre"])
def test_check_env(dataset):
    check_env(rg.env_id(dataset))
