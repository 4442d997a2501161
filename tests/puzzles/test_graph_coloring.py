import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.task import Task
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.graph_coloring import GraphColoringGenerator, max_edges, parse_coloring
from agentgym.tasks.registry import make_generator
from agentgym.verifiers.rule.answer import AnswerFormatError

GEN_ID = "puzzles/graph_coloring"
ENV_ID = "puzzles/graph-coloring-v0"


@pytest.mark.parametrize("seed", range(40))
def test_planted_coloring_is_proper_and_oracle_consistent(seed):
    n, k = 4 + seed % 20, 2 + seed % 4
    config = {"n_vertices": n, "n_colors": min(k, n), "edge_prob": 0.2 + 0.2 * (seed % 5)}
    if seed % 4 == 0:
        config["n_edges"] = 1 + seed % max_edges(n, config["n_colors"])
    gen = make_generator(GEN_ID, **config)
    task = gen.generate(seed, seed % 3)
    colors, edges = task.answer, task.spec["edges"]
    assert len(colors) == n and set(colors) == set(range(config["n_colors"]))  # every colour used
    assert max(colors.count(c) for c in set(colors)) - min(colors.count(c) for c in set(colors)) <= 1
    assert edges and all(0 <= u < v < n and colors[u] != colors[v] for u, v in edges)
    assert len({tuple(e) for e in edges}) == len(edges)
    if "n_edges" in config:
        assert len(edges) == config["n_edges"]
    assert gen.verify(task, gen.reference_response(task)).score == 1.0
    assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    corrupt = gen.verify(task, gen.corrupt_response(task, np.random.default_rng(seed)))
    assert corrupt.score < 1.0 and "format_error" not in corrupt.details and corrupt.details["feedback"]
    assert (
        "format_error" not in gen.verify(task, gen.random_response(task, np.random.default_rng(seed))).details
    )


def test_determinism_and_golden_id():
    gen = GraphColoringGenerator()
    assert gen.generate(9, 1) == gen.generate(9, 1)
    assert gen.generate(9, 1).id != gen.generate(9, 2).id
    task = gen.generate(0, 0)
    assert task.id == "9eddb2e02466bc07dfded41493bd791ccd5de00b6075eb23849719425381b2e1"
    assert task.answer == [2, 1, 0, 0, 2, 0, 1, 1]


def test_difficulty_reports_density():
    assert GraphColoringGenerator(n_vertices=6, n_colors=3, n_edges=12).difficulty()["density"] == 0.8
    assert GraphColoringGenerator(n_vertices=6, n_colors=3, edge_prob=0.5).difficulty() == {
        "n_vertices": 6,
        "n_colors": 3,
        "edge_prob": 0.5,
        "density": 0.4,
    }


def test_sparse_graphs_keep_an_edge():
    gen = GraphColoringGenerator(n_vertices=3, n_colors=2, edge_prob=1e-9)
    assert all(len(gen.generate(0, i).spec["edges"]) == 1 for i in range(10))


def test_max_edges_is_turan_number():
    assert max_edges(6, 3) == 12 and max_edges(5, 2) == 6 and max_edges(4, 4) == 6


@pytest.mark.parametrize("level", range(GraphColoringGenerator.n_levels()))
def test_every_difficulty_level_generates_valid_tasks(level):
    gen = GraphColoringGenerator.at_level(level)
    for i in range(5):
        task = gen.generate(17, i)
        assert task.spec["n_vertices"] == gen.config.n_vertices
        assert gen.verify(task, gen.reference_response(task)).score == 1.0


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"n_vertices": 1}, "n_vertices"),
        ({"n_vertices": 5, "n_colors": 6}, "n_colors"),
        ({"n_colors": 1}, "n_colors"),
        ({"edge_prob": 0.0}, "edge_prob"),
        ({"edge_prob": 1.5}, "edge_prob"),
        ({"edge_prob": "0.5"}, "edge_prob"),
        ({"n_vertices": 6, "n_colors": 3, "n_edges": 13}, "n_edges"),
        ({"n_edges": 0}, "n_edges"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        GraphColoringGenerator(**config)


@pytest.mark.parametrize(
    "body",
    [
        "0: 1, 1: 0, 2: 2",
        "0:1\n1:0\n2:2",
        "2 = 2; 0 = 1; 1 = 0",
        "v0 -> 1, v1 -> 0, v2 -> 2",
        "1 0 2",
        "[1, 0, 2]",
    ],
)
def test_accepted_answer_formats(body):
    assert parse_coloring(body, 3) == [1, 0, 2]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("0: 1, 1: 0", "no colour for vertex 2"),
        ("0: 1, 1: 0, 2: 2, 0: 2", "two colours"),
        ("0: 1, 1: 0, 2: 2, 7: 1", "not a vertex"),
        ("1 0", "expected 3 colours"),
        ("red green blue", "expected 3 colours"),
    ],
)
def test_rejected_answer_formats(body, match):
    with pytest.raises(AnswerFormatError, match=match):
        parse_coloring(body, 3)


def _triangle():
    spec = {"generator": GEN_ID, "n_vertices": 3, "n_colors": 3, "edges": [[0, 1], [0, 2], [1, 2]]}
    return Task(family="puzzles", spec=spec, answer=[0, 1, 2])


@pytest.mark.parametrize(
    ("body", "passed", "feedback"),
    [
        ("2 0 1", True, None),
        ("0 0 1", False, "edge 0-1 joins two vertices of colour 0"),
        ("0 1 3", False, "vertex 2 has colour 3"),
        ("0: 1, 1: -1, 2: 2", False, "vertex 1 has colour -1"),
    ],
)
def test_verify_proper_and_improper_colorings(body, passed, feedback):
    verdict = GraphColoringGenerator().verify(_triangle(), f"<answer>{body}</answer>")
    assert verdict.passed is passed and verdict.score == float(passed)
    assert "format_error" not in verdict.details
    if feedback:
        assert feedback in verdict.details["feedback"]


def test_unreadable_replies_are_format_errors():
    gen = GraphColoringGenerator()
    for response in ("2 0 1", "<answer>2 0 1", "<answer>" + "1 " * 60_000 + "</answer>"):
        assert gen.verify(_triangle(), response).details["format_error"]


def test_env_passes_check_env_and_oracle_wins():
    check_env(ENV_ID)
    env = agentgym.make(ENV_ID, difficulty={"n_vertices": 12, "n_colors": 4})
    env.reset(seed=0)
    _, reward, terminated, *_ = env.step(unwrap(env).oracle_action())
    assert reward == 1.0 and terminated
