"""Bug injection by AST mutation (SWE-smith style), applied as minimal source-text edits.

:func:`find_mutations` lists every site in a Python source where one operator applies: flipped
comparisons, off-by-one integers, swapped call arguments, removed statements, wrong return values
and changed constants. Each :class:`Mutation` replaces whole lines (``start``..``end``, 1-based,
inclusive) of the original text, so applying it and reversing it are exact string operations.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

OPERATORS = (
    "flip_compare",
    "off_by_one",
    "swap_args",
    "remove_statement",
    "wrong_return",
    "change_constant",
)
FLIPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
MAX_REMOVED_LINES = 3  # removed statements stay small, so the bug is a slip, not a missing feature
REMOVABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.For, ast.While, ast.Raise)


@dataclass(frozen=True)
class Mutation:
    """One injected bug: lines ``start``..``end`` of ``path`` read ``original`` and become ``mutated``."""

    path: str
    operator: str
    start: int
    end: int
    original: str
    mutated: str
    function: str  # qualified name of the enclosing function or class ("" at module level)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (round-trips through :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mutation:
        """Rebuild from :meth:`to_dict`."""
        return cls(**data)


def apply_mutations(source: str, mutations: list[Mutation]) -> str:
    """``source`` with each mutation's lines replaced (they must not overlap and must match)."""
    lines = source.splitlines(keepends=True)
    for mutation in sorted(mutations, key=lambda m: m.start, reverse=True):
        current = "".join(lines[mutation.start - 1 : mutation.end])
        if current != mutation.original:
            raise ValueError(f"{mutation.path}:{mutation.start}: the source does not match the mutation")
        lines[mutation.start - 1 : mutation.end] = [mutation.mutated] if mutation.mutated else []
    return "".join(lines)


def _segment_replace(lines: list[str], node: ast.AST, replacement: str) -> tuple[int, int, str, str] | None:
    """Replace ``node``'s text (single line only) by ``replacement``; the affected line range."""
    if node.lineno != node.end_lineno:  # type: ignore[attr-defined]
        return None
    line = lines[node.lineno - 1]  # type: ignore[attr-defined]
    raw = line.encode("utf-8")
    start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    new = (raw[:start] + replacement.encode("utf-8") + raw[end:]).decode("utf-8")
    if new == line:
        return None
    return node.lineno, node.lineno, line, new  # type: ignore[attr-defined]


SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
    ast.LtE: "<=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def _single_line(*nodes: ast.AST) -> int | None:
    """The line all ``nodes`` start and end on, or None."""
    rows = {n.lineno for n in nodes} | {n.end_lineno for n in nodes}  # type: ignore[attr-defined]
    return rows.pop() if len(rows) == 1 else None


def _flip_operator(lines: list[str], node: ast.Compare) -> tuple[int, int, str, str] | None:
    """Replace only the comparison operator's text (the code around it keeps its formatting)."""
    left, right = node.left, node.comparators[0]
    row = _single_line(left, right)
    if row is None:
        return None
    line = lines[row - 1]
    raw = line.encode("utf-8")
    middle = raw[left.end_col_offset : right.col_offset].decode("utf-8")  # type: ignore[misc]
    if " ".join(middle.split()) != SYMBOLS[type(node.ops[0])]:
        return None  # parentheses or comments between the operands: leave it
    lead = middle[: len(middle) - len(middle.lstrip())]
    trail = middle[len(middle.rstrip()) :]
    new_middle = lead + SYMBOLS[FLIPPED[type(node.ops[0])]] + trail
    start, end = left.end_col_offset, right.col_offset
    new = (raw[:start] + new_middle.encode("utf-8") + raw[end:]).decode("utf-8")  # type: ignore[index]
    return row, row, line, new


def _swap_segments(lines: list[str], first: ast.AST, second: ast.AST) -> tuple[int, int, str, str] | None:
    """Swap the source text of two arguments on one line."""
    row = _single_line(first, second)
    if row is None:
        return None
    line = lines[row - 1]
    raw = line.encode("utf-8")
    s1, e1 = first.col_offset, first.end_col_offset  # type: ignore[attr-defined]
    s2, e2 = second.col_offset, second.end_col_offset  # type: ignore[attr-defined]
    new = (raw[:s1] + raw[s2:e2] + raw[e1:s2] + raw[s1:e1] + raw[e2:]).decode("utf-8")
    return (row, row, line, new) if new != line else None


def _whole_lines(lines: list[str], node: ast.stmt) -> bool:
    """True when ``node`` alone occupies its lines (nothing before it or after it on them)."""
    first = lines[node.lineno - 1]
    last = lines[node.end_lineno - 1]  # type: ignore[operator]
    end_col = node.end_col_offset or 0
    return not first[: node.col_offset].strip() and not last.encode("utf-8")[end_col:].decode().strip(" \n;")


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            ids.add(id(first))
            ids.add(id(first.value))
    return ids


def _walk_with_scope(tree: ast.AST) -> Iterator[tuple[ast.AST, str, ast.AST | None]]:
    """Every node with the qualified name of its enclosing def/class and its parent."""
    stack: list[tuple[ast.AST, str, ast.AST | None]] = [(tree, "", None)]
    while stack:
        node, scope, parent = stack.pop()
        yield node, scope, parent
        inner = scope
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = f"{scope}.{node.name}" if scope else node.name
        for child in reversed(list(ast.iter_child_nodes(node))):
            stack.append((child, inner, node))


def find_mutations(path: str, source: str) -> list[Mutation]:
    """Every single-site mutation of ``source`` (in a stable order); none for unparsable files."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines(keepends=True)
    skip = _docstring_ids(tree)
    found: list[Mutation] = []

    def add(operator: str, scope: str, change: tuple[int, int, str, str] | None) -> None:
        if change is not None:
            found.append(Mutation(path, operator, change[0], change[1], change[2], change[3], scope))

    for node, scope, parent in _walk_with_scope(tree):
        if id(node) in skip or not scope:
            continue  # module-level code (constants tables, imports) is left alone
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in FLIPPED:
            add("flip_compare", scope, _flip_operator(lines, node))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            first, second = node.args[0], node.args[1]
            starred = any(isinstance(a, ast.Starred) for a in (first, second))
            if not starred and ast.unparse(first) != ast.unparse(second):
                add("swap_args", scope, _swap_segments(lines, first, second))
        elif isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                replacement = f"return {not value.value}"
            elif isinstance(value, ast.Constant) and value.value is None:
                continue
            else:
                replacement = "return None"
            add("wrong_return", scope, _segment_replace(lines, node, replacement))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, bool):
            if isinstance(node.value, bool):
                add("change_constant", scope, _segment_replace(lines, node, str(not node.value)))
            elif 0 <= node.value <= 64:
                in_arith = isinstance(parent, ast.BinOp | ast.Compare | ast.Slice | ast.Subscript)
                operator = "off_by_one" if in_arith else "change_constant"
                add(operator, scope, _segment_replace(lines, node, str(node.value + 1)))
        if isinstance(node, REMOVABLE) and isinstance(parent, ast.AST):
            bodies = (getattr(parent, f, None) for f in ("body", "orelse", "finalbody"))
            body = next((b for b in bodies if isinstance(b, list) and node in b), None)
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            start, end = node.lineno, node.end_lineno or node.lineno
            small = end - start < MAX_REMOVED_LINES
            if body is not None and len(body) >= 2 and not docstring and small and _whole_lines(lines, node):
                original = "".join(lines[start - 1 : end])
                found.append(Mutation(path, "remove_statement", start, end, original, "", scope))
    return found
