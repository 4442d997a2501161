import json
import math

import pytest

from agentgym.agents import OracleAgent, RandomAgent
from agentgym.core.errors import ConfigError
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.rollout import EpisodePlan, RolloutConfig, run_rollouts
from agentgym.tasks.curriculum import (
    DomainSampler,
    LearnabilitySampler,
    ThresholdCurriculum,
    domain_weights,
    level_arms,
)
from agentgym.tasks.difficulty import SATURN_MIN_DELTA, saturn_difficulty
from agentgym.tasks.puzzles.sat import SatGenerator
from agentgym.tasks.splits import split_of
from agentgym.trajectory import Trajectory, Turn

QUIET = {"progress": False}


def plan(i: int, sample: int = 0) -> EpisodePlan:
    return EpisodePlan(f"t{i:06d}-s{sample:03d}", i, sample, i, i)


def outcome(passed: bool, status: str = "ok") -> Trajectory:
    reward = 1.0 if passed else 0.0
    turn = Turn(0, [], Message("assistant", "<answer>1</answer>"), reward=reward, terminated=True)
    return Trajectory("e", "puzzles/sat-v0", "fake", 0, turns=[turn], status=status,
                      verdict=Verdict(reward, passed, "x"))  # fmt: skip


def feed(curriculum, results):
    """Draw one task per result and record that result; return the task ids."""
    ids = []
    for passed in results:
        task = curriculum.next_task(plan(curriculum.draws))
        curriculum.record(task, outcome(passed))
        ids.append(task.id)
    return ids


# ----- SATURN's difficulty -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_vars", "k", "n_clauses", "expected"),
    [
        (4, 2, 4, 6.0),  # log2 4 + 2 log2 4 - 2 + 4/2 = 2 + 4 - 2 + 2
        (8, 4, 16, 9.0),  # 3 + 8 - 4 + 2
        (16, 2, 8, 16.0),  # 4 + 6 - 2 + 8
        (5, 3, 5, 5.632450951328754),  # SATURN's (n, k, l) = (3, 5, 5): 3 log2 5 - 3 + 5/3
    ],
)
def test_saturn_difficulty_pinned_values(n_vars, k, n_clauses, expected):
    assert saturn_difficulty(n_vars, k, n_clauses) == pytest.approx(expected, abs=1e-12)


def test_saturn_transitions_of_the_released_scripts_rise_by_at_least_min_delta():
    step_15b = saturn_difficulty(5, 3, 6) - saturn_difficulty(5, 3, 5)  # (3,5,5) -> (3,5,6)
    step_7b = saturn_difficulty(5, 3, 15) - saturn_difficulty(5, 3, 13)  # (3,5,13) -> (3,5,15)
    assert step_15b == pytest.approx(2 * math.log2(6 / 5)) and step_7b == pytest.approx(0.41290175)
    assert min(step_15b, step_7b) >= SATURN_MIN_DELTA


@pytest.mark.parametrize("bad", [(0, 3, 5), (5, 0, 5), (5, 3, 0), (5.0, 3, 5), (True, 1, 1)])
def test_saturn_difficulty_rejects_bad_inputs(bad):
    with pytest.raises(ValueError):
        saturn_difficulty(*bad)


# ----- threshold curriculum ------------------------------------------------------------------------
def test_sat_ladder_carries_saturn_estimates_and_skips_a_rung_no_harder():
    arms = level_arms(SatGenerator)
    assert [a.generator.config.n_vars for a in arms] == [3, 4, 5, 6, 8, 10, 12, 15, 20]
    assert arms[3].difficulty == pytest.approx(saturn_difficulty(6, 3, 24), abs=1e-4)
    cur = ThresholdCurriculum(SatGenerator, window=4)
    feed(cur, [True] * 4)
    assert cur.level == 1
    feed(cur, [True] * 4)  # rung 2 (5 vars, 3-SAT: D=9.63) is easier than rung 1 (D=10.0)
    assert cur.level == 3 and cur.events[-1]["from"] == 1


def test_promotes_on_successes_and_stops_at_the_last_level():
    cur = ThresholdCurriculum(SatGenerator, window=8, threshold=0.75)
    feed(cur, [True, True, False, True] * 2)  # 6/8 = 0.75 >= threshold
    assert cur.level == 1
    feed(cur, [True] * 500)
    assert cur.level == len(cur.arms) - 1 and cur.harder_arm() is None
    assert all(e["move"] == "promote" for e in cur.events)


def test_does_not_promote_on_failures_or_before_the_window_is_full():
    cur = ThresholdCurriculum(SatGenerator, window=8)
    feed(cur, [False] * 40)
    assert cur.level == 0 and cur.success == 0.0
    feed(cur, [True] * 7)  # the window slides: 7 of 8 are successes now
    assert cur.level == 1
    fresh = ThresholdCurriculum(SatGenerator, window=8)
    feed(fresh, [True] * 7)
    assert fresh.level == 0


def test_demotes_to_the_level_it_came_from():
    cur = ThresholdCurriculum(SatGenerator, window=4, demote_below=0.5)
    feed(cur, [True] * 8)
    assert cur.level == 3
    feed(cur, [False] * 4)
    assert cur.level == 1 and cur.events[-1]["move"] == "demote"
    feed(cur, [False] * 8)
    assert cur.level == 0
    feed(cur, [False] * 8)  # nowhere lower to go
    assert cur.level == 0


def test_outcomes_of_tasks_from_a_former_level_and_env_failures_are_ignored():
    cur = ThresholdCurriculum(SatGenerator, window=2)
    old = cur.next_task(plan(0))
    feed(cur, [True, True])
    assert cur.level == 1
    cur.record(old, outcome(False))
    cur.record(cur.next_task(plan(5)), outcome(False, status="env_error"))
    assert cur.success == 0.0 and cur.ignored == 1 and cur.stale == 1
    feed(cur, [True, True])
    assert cur.level == 3


def test_per_attribute_mode_steps_one_attribute_by_the_saturn_rule():
    cur = ThresholdCurriculum(SatGenerator, mode="per_attribute", window=1)
    assert cur.current.config.n_vars == 3 and cur.current.config.k == 2
    here = cur.difficulty
    feed(cur, [True])
    config = cur.current.config
    assert (config.n_vars, config.k) == (4, 2)  # k=3 would make it easier under SATURN's D
    assert cur.difficulty >= here + SATURN_MIN_DELTA


def test_walks_only_the_chosen_attributes():
    cur = ThresholdCurriculum(SatGenerator, {"k": 3, "n_clauses": 30}, attributes=["n_vars"], window=1)
    feed(cur, [True] * 3)
    assert cur.current.config.k == 3 and cur.current.config.n_clauses == 30


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0.0},
        {"threshold": 1.5},
        {"demote_below": 0.8},
        {"window": 0},
        {"min_delta": -1.0},
        {"start": 99},
        {"base_config": {"n_vars": 5}},
        {"attributes": ["colour"]},
        {"mode": "diagonal"},
        {"seed": -1},
    ],
)
def test_invalid_settings_raise(kwargs):
    with pytest.raises(ConfigError):
        ThresholdCurriculum(SatGenerator, **kwargs)


# ----- every curriculum: train split only, determinism, groups, state --------------------------------
def make_all(seed=0):
    domains = {"small": SatGenerator(n_vars=3, n_clauses=3), "large": SatGenerator(n_vars=8)}
    return [
        ThresholdCurriculum(SatGenerator, window=3, demote_below=0.4, seed=seed),
        DomainSampler(domains, update_every=4, seed=seed),
        LearnabilitySampler.over_levels(SatGenerator, seed=seed),
    ]


def scripted_result(task) -> bool:
    """A fake agent that solves small formulas (and a few others, by task id)."""
    return task.spec["n_vars"] <= 5 or task.id[-1] in "0123"


@pytest.mark.parametrize("index", range(3))
def test_never_emits_a_heldout_task_and_skips_them_in_the_stream(index):
    cur = make_all()[index]
    for i in range(400):
        task = cur.next_task(plan(i))
        assert split_of(task) == "train"
        cur.record(task, outcome(scripted_result(task)))
    assert sum(cur._next_index) > cur.draws  # held-out items were drawn and skipped


@pytest.mark.parametrize("index", range(3))
def test_same_seed_same_tasks_other_seed_other_tasks(index):
    runs = []
    for seed in (0, 0, 1):
        cur = make_all(seed)[index]
        ids = []
        for i in range(60):
            task = cur.next_task(plan(i))
            cur.record(task, outcome(scripted_result(task)))
            ids.append(task.id)
        runs.append(ids)
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_repeat_samples_of_a_group_get_the_group_task():
    cur = make_all()[1]
    first = cur.next_task(plan(7, 0))
    assert cur.next_task(plan(7, 1)) is first and cur.next_task(plan(7, 2)) is first
    assert cur.next_task(plan(7, 0)).id != first.id  # a new run's first sample draws afresh


@pytest.mark.parametrize("index", range(3))
def test_state_round_trip_continues_identically(index):
    cur = make_all()[index]
    for i in range(45):
        task = cur.next_task(plan(i))
        cur.record(task, outcome(scripted_result(task)))
    pending = cur.next_task(plan(45, 0))  # a group in flight at save time
    state = json.loads(json.dumps(cur.state_dict()))
    restored = make_all()[index]
    restored.load_state_dict(state)
    assert restored.next_task(plan(45, 1)) == pending
    cur.next_task(plan(45, 1))
    seqs = []
    for c in (cur, restored):
        ids = []
        for i in range(46, 120):
            task = c.next_task(plan(i))
            c.record(task, outcome(scripted_result(task)))
            ids.append(task.id)
        seqs.append((ids, json.dumps(c.state_dict(), sort_keys=True)))
    assert seqs[0] == seqs[1]


def test_state_of_another_curriculum_is_rejected():
    threshold, domain, _ = make_all()
    with pytest.raises(ConfigError):
        domain.load_state_dict(threshold.state_dict())
    with pytest.raises(ConfigError):
        make_all(seed=5)[0].load_state_dict(threshold.state_dict())


# ----- domain sampler --------------------------------------------------------------------------------
def test_domain_weights_pinned_values():
    # One block: domain 0 solved, domain 1 failed. Harmonic target over a buffer of 4:
    # (1 + 1/2 + 1/3 + 1/4) / 4 = 0.52083; shortfalls 0 and 0.52083; weight ratio e^(0.52083/0.3).
    w = domain_weights([[(0, 1.0), (1, 0.0)]], 2, buffer_size=4, decay="harmonic", tau=0.3)
    assert w == pytest.approx([0.14980757, 0.85019243])
    assert domain_weights([[(0, 1.0), (1, 1.0)]], 2, 4) == pytest.approx([0.5, 0.5])
    # Domain 2 unseen: short by the whole target, like a failing domain.
    ratio = math.exp(0.5208333333 / 0.3)  # 5.67523
    assert domain_weights([[(0, 1.0), (1, 0.0)]], 3, 4) == pytest.approx(
        [x / (1 + 2 * ratio) for x in (1, ratio, ratio)]
    )


def test_domain_sampler_upweights_the_failing_domain():
    with pytest.raises(ConfigError):  # two unnamed domains with one generator id
        DomainSampler([SatGenerator(n_vars=4), SatGenerator(n_vars=12)])
    sampler = DomainSampler({"easy": SatGenerator(n_vars=4), "hard": SatGenerator(n_vars=12)}, update_every=8)
    assert sampler.probabilities == pytest.approx({"easy": 0.5, "hard": 0.5})
    counts = {"easy": 0, "hard": 0}
    for i in range(400):
        task = sampler.next_task(plan(i))
        name = sampler.names[sampler.arm_of(task)]
        counts[name] += 1
        sampler.record(task, outcome(name == "easy"))
    assert sampler.weights["hard"] > 0.8 and counts["hard"] > 2 * counts["easy"] > 0


# ----- learnability -----------------------------------------------------------------------------------
def test_learnability_prefers_levels_solved_half_the_time():
    sampler = LearnabilitySampler.over_levels(SatGenerator, explore=0.0, seed=1)
    assert sampler.scores() == pytest.approx([0.25] * len(sampler.arms))  # the prior: all unseen
    rate = {3: 0.97, 4: 0.9, 5: 0.8, 6: 0.5, 8: 0.2}  # success by n_vars; larger ones never
    for i in range(800):
        task = sampler.next_task(plan(i))
        n = task.spec["n_vars"]
        sampler.record(task, outcome((i * 0.6180339887) % 1.0 < rate.get(n, 0.0)))
    probs = sampler.probabilities()
    best = max(range(len(probs)), key=probs.__getitem__)
    assert sampler.arms[best].generator.config.n_vars == 6
    assert probs[best] > max(p for i, p in enumerate(probs) if i != best)
    greedy = LearnabilitySampler.over_levels(SatGenerator, mode="greedy", explore=0.0, seed=1)
    greedy.load_state_dict(sampler.state_dict())
    assert max(range(len(probs)), key=greedy.probabilities().__getitem__) == best


# ----- end to end ----------------------------------------------------------------------------------------
def test_end_to_end_threshold_curriculum_on_sat_env():
    cur = ThresholdCurriculum("puzzles/sat", window=4, seed=11)
    config = RolloutConfig(episodes=24, samples_per_task=2, concurrency=1, seed=5, **QUIET)
    result = run_rollouts("puzzles/sat-v0", OracleAgent(), config, task_source=cur)
    assert result.summary()["success"] == 1.0 and len(result.trajectories) == 48
    assert cur.level >= 5 and cur.events[0]["move"] == "promote"
    by_group = {}
    for t in result.trajectories:
        assert split_of(t.task_id) == "train"
        by_group.setdefault(t.group_id, set()).add(t.task_id)
    assert all(len(ids) == 1 for ids in by_group.values())  # the 2 samples share their task
    sizes = [t.task["spec"]["n_vars"] for t in sorted(result.trajectories, key=lambda t: t.episode_id)]
    assert sizes[0] == 3 and sizes == sorted(sizes)


def test_end_to_end_random_agent_stays_low():
    cur = ThresholdCurriculum("puzzles/sat", window=8, seed=11)
    config = RolloutConfig(episodes=24, concurrency=4, seed=5, **QUIET)
    run_rollouts("puzzles/sat-v0", RandomAgent(), config, task_source=cur)
    assert cur.level <= 1
