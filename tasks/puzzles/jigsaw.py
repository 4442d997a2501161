"""Jigsaw (Jigsaw-R1 style): put the shuffled tiles of a procedurally drawn picture back in order.

The picture is a recipe in the spec, never pixels: a bilinear gradient whose four corner colours
make one channel run along x and another along y (so every tile's background differs), long lines
crossing the whole picture, and shapes (ellipses, rectangles, triangles) no larger than a tile,
centred anywhere, so they straddle tile borders and give continuity cues. It is cut into a
``rows x cols`` grid and shuffled by a random non-identity permutation. The prompt shows the
shuffled tiles, separated by white gaps, each labelled in its top-left corner with its number
(1..n in reading order) in a built-in bitmap font, so rendering needs no font files and the PNG
bytes depend only on the task. Pillow is imported only when a picture is rendered.

Answer: for each position of the original picture in reading order, the number of the shuffled
tile that belongs there. Exact match scores 1.0; the fraction of tiles in place is a metric.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.messages import ImagePart, TextPart
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import last_answer_block

MAX_SIDE = 8
MAX_SHAPES = 200
MAX_ANSWER_CHARS = 100_000
GAP = 4  # white pixels between shuffled tiles
SHAPE_KINDS = ("ellipse", "rectangle", "triangle")
_SEPARATORS = re.compile(r"[\s,;\[\]()]+")
#: 3x5 bitmap digits ("1" = lit pixel), scaled up when drawn.
_DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}


class TileFormatError(ValueError):
    """A reply holds no readable tile order; the message says what is wrong."""


@dataclass(frozen=True)
class JigsawConfig(GeneratorConfig):
    """A ``rows x cols`` jigsaw of ``tile_size``-pixel tiles; ``n_shapes`` defaults to tiles + 4."""

    rows: int = 2
    cols: int = 2
    tile_size: int = 96
    n_shapes: int | None = None

    @property
    def shapes(self) -> int:
        """The number of shapes drawn."""
        return self.n_shapes if self.n_shapes is not None else self.rows * self.cols + 4

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(1 <= self.rows <= MAX_SIDE, self, "rows", f"must be in [1, {MAX_SIDE}]")
        require(1 <= self.cols <= MAX_SIDE, self, "cols", f"must be in [1, {MAX_SIDE}]")
        require(self.rows * self.cols >= 2, self, "cols", "must give at least 2 tiles with rows")
        require(32 <= self.tile_size <= 256, self, "tile_size", "must be in [32, 256]")
        require(
            self.n_shapes is None
            or (isinstance(self.n_shapes, int) and not isinstance(self.n_shapes, bool)
                and 0 <= self.n_shapes <= MAX_SHAPES),
            self, "n_shapes", f"must be None or an int in [0, {MAX_SHAPES}]",
        )  # fmt: skip


# ----- the picture recipe -------------------------------------------------------------------------
def _color(rng: np.random.Generator) -> list[int]:
    return [int(v) for v in rng.integers(0, 256, size=3)]


def draw_recipe(
    rng: np.random.Generator, width: int, height: int, tile: int, n_shapes: int
) -> dict[str, Any]:
    """A random picture as JSON: gradient corners, crossing lines and tile-sized shapes."""
    x_channel, y_channel, free = (int(c) for c in rng.permutation(3))
    ramps = []
    for _ in range(2):  # a strong ramp per axis: tiles differ in background wherever they are
        lo, hi = int(rng.integers(10, 70)), int(rng.integers(185, 246))
        ramps.append((lo, hi) if rng.integers(2) else (hi, lo))
    base = int(rng.integers(40, 216))
    corners = []
    for v in (0, 1):
        for u in (0, 1):  # order: top-left, top-right, bottom-left, bottom-right
            rgb = [0, 0, 0]
            rgb[x_channel], rgb[y_channel], rgb[free] = ramps[0][u], ramps[1][v], base
            corners.append(rgb)
    lines = []
    for _ in range(int(rng.integers(2, 4))):  # from the left or top edge to the right or bottom edge
        if rng.integers(2):
            pts = [0, int(rng.integers(height)), width - 1, int(rng.integers(height))]
        else:
            pts = [int(rng.integers(width)), 0, int(rng.integers(width)), height - 1]
        lines.append({"points": pts, "color": _color(rng), "width": int(rng.integers(2, 6))})
    shapes = []
    for _ in range(n_shapes):
        kind = SHAPE_KINDS[int(rng.integers(len(SHAPE_KINDS)))]
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        w, h = (int(s) for s in rng.integers(tile * 3 // 10, tile * 9 // 10 + 1, size=2))
        box = [cx - w // 2, cy - h // 2, cx - w // 2 + w, cy - h // 2 + h]
        shapes.append({"kind": kind, "box": box, "fill": _color(rng), "outline": _color(rng)})
    return {"width": width, "height": height, "corners": corners, "lines": lines, "shapes": shapes}


def render_picture(recipe: dict[str, Any]) -> Any:
    """The original picture of ``recipe`` as a Pillow RGB image."""
    from PIL import Image, ImageDraw

    w, h = recipe["width"], recipe["height"]
    c = np.asarray(recipe["corners"], dtype=np.float64).reshape(2, 2, 3)
    u = (np.arange(w) / max(w - 1, 1))[None, :, None]
    v = (np.arange(h) / max(h - 1, 1))[:, None, None]
    top = c[0, 0] * (1 - u) + c[0, 1] * u
    bottom = c[1, 0] * (1 - u) + c[1, 1] * u
    pixels = np.rint(top * (1 - v) + bottom * v).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for line in recipe["lines"]:
        draw.line(line["points"], fill=tuple(line["color"]), width=line["width"])
    for s in recipe["shapes"]:
        x0, y0, x1, y1 = s["box"]
        fill, outline = tuple(s["fill"]), tuple(s["outline"])
        if s["kind"] == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=outline, width=2)
        elif s["kind"] == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=fill, outline=outline, width=2)
        else:
            draw.polygon([((x0 + x1) // 2, y0), (x1, y1), (x0, y1)], fill=fill, outline=outline)
    return image


def _label(draw: Any, x: int, y: int, number: int, scale: int) -> None:
    """Draw ``number`` in white bitmap digits on a black box whose top-left corner is (x, y)."""
    text = str(number)
    pad = scale
    width = len(text) * 4 * scale - scale + 2 * pad
    draw.rectangle((x, y, x + width - 1, y + 5 * scale + 2 * pad - 1), fill=(0, 0, 0))
    for i, ch in enumerate(text):
        for r, bits in enumerate(_DIGITS[ch]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    px, py = x + pad + (4 * i + col) * scale, y + pad + r * scale
                    draw.rectangle((px, py, px + scale - 1, py + scale - 1), fill=(255, 255, 255))


def render_shuffled(spec: dict[str, Any]) -> bytes:
    """The PNG bytes of the shuffled, labelled tiles of a jigsaw spec (the same bytes every time)."""
    from PIL import Image, ImageDraw

    rows, cols, t = spec["rows"], spec["cols"], spec["tile_size"]
    picture = render_picture(spec["image"])
    canvas = Image.new("RGB", (cols * t + (cols + 1) * GAP, rows * t + (rows + 1) * GAP), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    scale = max(2, t // 28)
    for k, original in enumerate(spec["permutation"]):
        sr, sc = divmod(original, cols)
        tile = picture.crop((sc * t, sr * t, sc * t + t, sr * t + t))
        r, c = divmod(k, cols)
        x, y = GAP + c * (t + GAP), GAP + r * (t + GAP)
        canvas.paste(tile, (x, y))
        _label(draw, x, y, k + 1, scale)
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=6, optimize=False)
    return out.getvalue()


# ----- answers ------------------------------------------------------------------------------------
def solution(permutation: list[int]) -> list[int]:
    """For each original position, the 1-based label of the shuffled tile that shows it."""
    labels = [0] * len(permutation)
    for k, original in enumerate(permutation):
        labels[original] = k + 1
    return labels


def parse_order(text: str, n: int) -> list[int]:
    """The ``n`` tile numbers of the last complete ``<answer>`` block; raises TileFormatError."""
    if len(text) > MAX_ANSWER_CHARS:
        raise TileFormatError(f"the reply is longer than {MAX_ANSWER_CHARS} characters")
    body = last_answer_block(text)
    if body is None:
        raise TileFormatError("no <answer>...</answer> block found")
    tokens = [t for t in _SEPARATORS.split(body) if t]
    if len(tokens) != n:
        raise TileFormatError(f"expected {n} tile numbers, got {len(tokens)}")
    values = []
    for i, token in enumerate(tokens):
        if not token.isdigit() or len(token) > 6:
            raise TileFormatError(f"entry {i + 1} ({token[:20]!r}) is not a tile number")
        value = int(token)
        if not 1 <= value <= n:
            raise TileFormatError(f"entry {i + 1} is {value}; tile numbers run from 1 to {n}")
        values.append(value)
    return values


def _answer(values: list[int]) -> str:
    return "<answer>" + " ".join(str(v) for v in values) + "</answer>"


class JigsawGenerator(TaskGenerator):
    """Shuffled-tile jigsaws of a generated picture, posed as text plus one PNG image."""

    id = "puzzles/jigsaw"
    config_cls = JigsawConfig
    difficulty_attrs = (
        DifficultyAttr("rows", (2, 2, 3, 3, 4), "tile rows"),
        DifficultyAttr("cols", (2, 3, 3, 4, 4), "tile columns"),
    )
    instructions = (
        "You solve jigsaw puzzles. A picture was cut into a grid of equal rectangular tiles and the "
        "tiles were shuffled. The image shows the shuffled tiles, separated by white gaps; each tile "
        "carries its number in a black box at its top-left corner (the box is a label, not part of the "
        "picture). Work out where each tile belongs in the original picture: colours change smoothly "
        "across it, and lines and shapes continue across tile borders."
    )
    answer_format = (
        "Go through the positions of the original picture in reading order (left to right, then top to "
        "bottom) and give, for each, the number of the tile that belongs there, separated by spaces, "
        "inside answer tags, e.g. <answer>3 1 4 2</answer>."
    )
    config: JigsawConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        t, n = c.tile_size, c.rows * c.cols
        image = draw_recipe(rng, c.cols * t, c.rows * t, t, c.shapes)
        permutation = [int(v) for v in rng.permutation(n)]
        while permutation == list(range(n)):  # never pose an already solved puzzle
            permutation = [int(v) for v in rng.permutation(n)]
        spec = {"rows": c.rows, "cols": c.cols, "tile_size": t, "image": image, "permutation": permutation}
        return spec, solution(permutation)

    def difficulty(self) -> dict[str, float]:
        """Rows, columns and tile count."""
        return {
            "rows": self.config.rows,
            "cols": self.config.cols,
            "tiles": self.config.rows * self.config.cols,
        }

    def prompt(self, task: Task) -> tuple[TextPart, ImagePart]:
        """The instructions for this grid and the PNG of the shuffled, numbered tiles."""
        rows, cols = task.spec["rows"], task.spec["cols"]
        n = rows * cols
        text = (
            f"The picture was cut into {rows} row(s) x {cols} column(s) = {n} tiles, shown shuffled "
            f"below and numbered 1 to {n}. Give {n} numbers: for each position of the original "
            "picture in reading order, the number of the tile that belongs there."
        )
        return TextPart(text), ImagePart(render_shuffled(dict(task.spec)))

    def verify(self, task: Task, response: str) -> Verdict:
        """Exact order scores 1.0; the fraction of tiles in the right place is a metric."""
        n = task.spec["rows"] * task.spec["cols"]
        expected = solution(task.spec["permutation"])
        try:
            given = parse_order(response, n)
        except TileFormatError as exc:
            return Verdict(
                0.0, False, kind="jigsaw", details={"format_error": str(exc), "fraction_correct": 0.0}
            )
        correct = sum(g == e for g, e in zip(given, expected, strict=True))
        details: dict[str, Any] = {"correct": correct, "tiles": n, "fraction_correct": round(correct / n, 4)}
        repeated = sorted({v for v in given if given.count(v) > 1})
        if repeated:
            details["feedback"] = f"tile(s) {repeated} are used more than once; each tile goes in one place."
        elif correct < n:
            details["feedback"] = f"{correct} of {n} tiles are in the right place."
        return Verdict(1.0 if correct == n else 0.0, correct == n, kind="jigsaw", details=details)

    def reference_response(self, task: Task) -> str:
        """The inverse of the shuffling permutation, as 1-based labels."""
        return _answer(list(task.answer))

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The right order with two positions swapped."""
        values = list(task.answer)
        i, j = (int(v) for v in rng.choice(len(values), size=2, replace=False))
        values[i], values[j] = values[j], values[i]
        return _answer(values)

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """A uniformly random order of the tiles."""
        return _answer([int(v) + 1 for v in rng.permutation(len(task.answer))])

    def oracle_response(self, task: Task) -> str:
        """Recompute the order from the spec's permutation."""
        return _answer(solution(task.spec["permutation"]))
