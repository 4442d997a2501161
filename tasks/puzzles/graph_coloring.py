"""Graph colouring: colour the vertices with k colours so that no edge joins two of the same colour.

A balanced k-colouring is planted (class sizes differ by at most one, every colour used) and edges
are drawn only between different classes: each such pair with probability ``edge_prob``, or exactly
``n_edges`` of them, so the graph is k-colourable by construction (at least one edge is kept).
Vertices are numbered ``0..n-1`` and colours ``0..k-1``; any proper colouring passes, and the
fraction of properly coloured edges is a metric, never the reward.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import AnswerFormatError, extract_answer

KIND = "graph_coloring"
MAX_VERTICES = 2_000
MAX_RESPONSE_CHARS = 100_000
_PAIR = re.compile(r"(\d+)\s*(?::|=|->)\s*(-?\d+)")
_INT = re.compile(r"-?\d+")


def max_edges(n: int, k: int) -> int:
    """The most edges a graph with a balanced k-colouring of n vertices can have (Turán's number)."""
    sizes = [n // k + (1 if c < n % k else 0) for c in range(k)]
    return (n * n - sum(s * s for s in sizes)) // 2


@dataclass(frozen=True)
class GraphColoringConfig(GeneratorConfig):
    """``n_vertices`` vertices, ``n_colors`` colours; ``n_edges`` (if set) overrides ``edge_prob``."""

    n_vertices: int = 8
    n_colors: int = 3
    edge_prob: float = 0.5
    n_edges: int | None = None

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(2 <= self.n_vertices <= MAX_VERTICES, self, "n_vertices", f"must be in [2, {MAX_VERTICES}]")
        require(
            2 <= self.n_colors <= self.n_vertices,
            self,
            "n_colors",
            f"must be in [2, n_vertices={self.n_vertices}]",
        )
        require(isinstance(self.edge_prob, (int, float)) and not isinstance(self.edge_prob, bool)
                and 0.0 < self.edge_prob <= 1.0, self, "edge_prob", "must be a number in (0, 1]")  # fmt: skip
        most = max_edges(self.n_vertices, self.n_colors)
        m = self.n_edges
        require(m is None or (isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= most),
                self, "n_edges", f"must be None or an int in [1, {most}] (cross-class pairs)")  # fmt: skip


class GraphColoringGenerator(TaskGenerator):
    """k-colouring tasks on graphs with a planted balanced colouring."""

    id = "puzzles/graph_coloring"
    config_cls = GraphColoringConfig
    difficulty_attrs = (
        DifficultyAttr("n_vertices", (5, 6, 8, 10, 12, 15, 20, 25, 30), "number of vertices"),
        DifficultyAttr("n_colors", (2, 3, 3, 3, 3, 4, 4, 4, 4), "colours available"),
        DifficultyAttr("edge_prob", (0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.8),
                       "chance of an edge between two vertices of different planted colours"),
    )  # fmt: skip
    instructions = (
        "You solve graph colouring problems: give every vertex one of the allowed colours so that no "
        "edge connects two vertices of the same colour."
    )
    answer_format = (
        "Colours are the integers 0..k-1. Inside answer tags, give each vertex's colour as "
        "'vertex: colour' pairs, e.g. <answer>0: 1, 1: 0, 2: 2</answer>, or the colours of vertices "
        "0..n-1 in order, e.g. <answer>1 0 2</answer>."
    )
    config: GraphColoringConfig

    def difficulty(self) -> dict[str, float]:
        """n, k, the edge knob, and the expected density (edges over all vertex pairs)."""
        c = self.config
        edges = c.n_edges if c.n_edges is not None else c.edge_prob * max_edges(c.n_vertices, c.n_colors)
        out = {"n_vertices": c.n_vertices, "n_colors": c.n_colors, "edge_prob": c.edge_prob}
        if c.n_edges is not None:
            out["n_edges"] = c.n_edges
        out["density"] = round(edges / (c.n_vertices * (c.n_vertices - 1) / 2), 4)
        return out

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        n, k = c.n_vertices, c.n_colors
        colors = rng.permutation(np.arange(n) % k)
        us, vs = np.triu_indices(n, 1)
        cross = np.flatnonzero(colors[us] != colors[vs])
        if c.n_edges is not None:
            chosen = np.sort(rng.choice(cross.size, size=c.n_edges, replace=False))
        else:
            chosen = np.flatnonzero(rng.random(cross.size) < c.edge_prob)
            if chosen.size == 0:
                chosen = rng.integers(cross.size, size=1)
        picked = cross[chosen]
        edges = np.stack([us[picked], vs[picked]], axis=1).tolist()
        return {"n_vertices": n, "n_colors": k, "edges": edges}, colors.tolist()

    def prompt(self, task: Task) -> str:
        """The vertices, the colours and the edge list."""
        s = task.spec
        edges = ", ".join(f"{u}-{v}" for u, v in s["edges"])
        return (
            f"Graph with {s['n_vertices']} vertices (0..{s['n_vertices'] - 1}) and {len(s['edges'])} edges:\n"
            f"{edges}\nColour it with {s['n_colors']} colours (0..{s['n_colors'] - 1})."
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Every vertex coloured in range and no edge monochromatic."""
        return verify_coloring(task, response)

    def reference_response(self, task: Task) -> str:
        """The planted colouring as ``vertex: colour`` pairs."""
        return _answer(task.answer)

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The planted colouring with one edge made monochromatic."""
        colors = list(task.answer)
        u, v = task.spec["edges"][int(rng.integers(len(task.spec["edges"])))]
        colors[u] = colors[v]
        return _answer(colors)

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """Uniformly random colours."""
        return _answer(rng.integers(0, task.spec["n_colors"], task.spec["n_vertices"]).tolist())


def _answer(colors: list[int]) -> str:
    return "<answer>" + ", ".join(f"{v}: {c}" for v, c in enumerate(colors)) + "</answer>"


def parse_coloring(body: str, n: int) -> list[int]:
    """Colours of vertices 0..n-1 from ``v: c`` pairs (every vertex named once) or a list of n ints."""
    pairs = _PAIR.findall(body)
    if pairs:
        colors: dict[int, int] = {}
        for vertex, color in pairs:
            v = int(vertex) if len(vertex) < 7 else -1
            if not 0 <= v < n:
                raise AnswerFormatError(f"{vertex[:8]} is not a vertex (0..{n - 1})")
            c = int(color) if len(color) < 7 else -1
            if colors.get(v, c) != c:
                raise AnswerFormatError(f"vertex {v} is given two colours")
            colors[v] = c
        missing = [v for v in range(n) if v not in colors]
        if missing:
            raise AnswerFormatError(f"no colour for vertex {missing[0]} ({len(missing)} vertices missing)")
        return [colors[v] for v in range(n)]
    tokens = _INT.findall(body)
    if len(tokens) != n:
        raise AnswerFormatError(f"expected {n} colours (vertices 0..{n - 1} in order), got {len(tokens)}")
    return [int(t) if len(t) < 7 else -1 for t in tokens]


def verify_coloring(task: Task, response: str) -> Verdict:
    """Score 1.0 for a proper colouring with colours in ``0..k-1``, else 0.0."""
    spec = task.spec
    n, k, edges = spec["n_vertices"], spec["n_colors"], spec["edges"]
    try:
        if len(response) > MAX_RESPONSE_CHARS:
            raise AnswerFormatError(f"the reply is longer than {MAX_RESPONSE_CHARS} characters")
        colors = parse_coloring(extract_answer(response), n)
    except AnswerFormatError as exc:
        return Verdict(0.0, False, kind=KIND, details={"format_error": str(exc), "fraction_proper": 0.0})
    bad_vertex = next((v for v, c in enumerate(colors) if not 0 <= c < k), None)
    clashes = [(u, v) for u, v in edges if colors[u] == colors[v]]
    proper = 1.0 - len(clashes) / len(edges)
    details: dict[str, Any] = {"conflicts": len(clashes), "edges": len(edges), "fraction_proper": proper}
    if bad_vertex is not None:
        details["feedback"] = f"vertex {bad_vertex} has colour {colors[bad_vertex]}, not one of 0..{k - 1}"
    elif clashes:
        u, v = clashes[0]
        details["feedback"] = (
            f"edge {u}-{v} joins two vertices of colour {colors[u]} ({len(clashes)} such edges)"
        )
    passed = bad_vertex is None and not clashes
    return Verdict(1.0 if passed else 0.0, passed, kind=KIND, details=details)
