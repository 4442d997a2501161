import io
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import TaskError
from agentgym.core.messages import PNG_MAGIC, ImagePart, Message, TextPart
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.jigsaw import (
    GAP,
    JigsawConfig,
    JigsawGenerator,
    TileFormatError,
    parse_order,
    render_picture,
    solution,
)

GEN_ID = "puzzles/jigsaw"
ENV_ID = "puzzles/jigsaw-v0"


def tiles_of(task):
    """The tiles of the unshuffled picture, as float arrays in reading order."""
    pic = np.asarray(render_picture(task.spec["image"])).astype(float)
    rows, cols, t = task.spec["rows"], task.spec["cols"], task.spec["tile_size"]
    return [pic[r * t : (r + 1) * t, c * t : (c + 1) * t] for r in range(rows) for c in range(cols)]


def seam_cost(tiles, order, rows, cols):
    """Mean absolute colour jump across every seam when tile order[i] is put at position i."""
    cost = 0.0
    for r, c in itertools.product(range(rows), range(cols)):
        a = tiles[order[r * cols + c]]
        if c + 1 < cols:
            cost += np.abs(a[:, -1] - tiles[order[r * cols + c + 1]][:, 0]).mean()
        if r + 1 < rows:
            cost += np.abs(a[-1] - tiles[order[(r + 1) * cols + c]][0]).mean()
    return cost


# ----- the generator --------------------------------------------------------------------------
def test_same_seed_and_index_give_the_same_task_and_the_same_png_bytes():
    gen = JigsawGenerator(rows=3, cols=4)
    a, b = gen.generate(5, 2), gen.generate(5, 2)
    assert a == b and a.id != gen.generate(5, 3).id
    (text_a, image_a), (text_b, image_b) = gen.prompt(a), gen.prompt(b)
    assert text_a == text_b and image_a.png == image_b.png
    assert image_a.png != gen.prompt(gen.generate(5, 3))[1].png


def test_png_bytes_are_the_same_in_another_process():
    code = (
        "from agentgym.tasks.puzzles.jigsaw import JigsawGenerator as G; import hashlib; "
        "g = G(rows=3, cols=3); print(hashlib.sha256(g.prompt(g.generate(1, 1))[1].png).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import hashlib

    gen = JigsawGenerator(rows=3, cols=3)
    assert out.stdout.strip() == hashlib.sha256(gen.prompt(gen.generate(1, 1))[1].png).hexdigest()


def test_generation_is_stable_across_machines():
    task = JigsawGenerator().generate(0, 0)
    assert task.id == "cf9b507f83d012869442ca0407a035f6376e821fb2d3f9d8bedc5a2179e424ef"
    assert json.loads(json.dumps(task.to_dict())) == task.to_dict()  # a recipe, not pixels
    assert len(json.dumps(task.spec)) < 5_000


def test_prompt_is_text_and_a_valid_png_of_the_shuffled_grid():
    gen = JigsawGenerator(rows=3, cols=4, tile_size=64)
    task = gen.generate(0)
    text, image = gen.prompt(task)
    assert isinstance(text, TextPart) and isinstance(image, ImagePart)
    assert "3 row(s) x 4 column(s)" in text.text and image.png.startswith(PNG_MAGIC)
    decoded = Image.open(io.BytesIO(image.png))
    decoded.load()
    assert decoded.format == "PNG" and decoded.mode == "RGB"
    assert decoded.size == (4 * 64 + 5 * GAP, 3 * 64 + 4 * GAP)
    # Away from the label, each shown tile is the original tile the permutation says.
    shown = np.asarray(decoded).astype(float)
    original = tiles_of(task)
    for k, source in enumerate(task.spec["permutation"]):
        r, c = divmod(k, 4)
        y, x = GAP + r * (64 + GAP), GAP + c * (64 + GAP)
        assert np.array_equal(shown[y + 32 : y + 64, x : x + 64], original[source][32:, :])


@pytest.mark.parametrize("seed", range(40))
def test_reference_and_oracle_pass_and_corrupt_fails(seed):
    gen = JigsawGenerator(rows=1 + seed % 4, cols=2 + seed % 3)
    task = gen.generate(seed, seed)
    rng = np.random.default_rng(seed)
    assert task.spec["permutation"] != list(range(len(task.answer)))
    assert gen.verify(task, gen.reference_response(task)).score == 1.0
    assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    corrupt = gen.verify(task, gen.corrupt_response(task, rng))
    assert corrupt.score < 1.0 and "format_error" not in corrupt.details
    assert corrupt.details["fraction_correct"] == pytest.approx(
        (len(task.answer) - 2) / len(task.answer), abs=1e-4
    )
    assert "format_error" not in gen.verify(task, gen.random_response(task, rng)).details


@pytest.mark.parametrize("level", range(JigsawGenerator.n_levels()))
def test_every_level_is_visually_solvable(level):
    # Every tile differs, and the true layout has smoother seams than any layout one swap away.
    gen = JigsawGenerator.at_level(level, tile_size=48)
    rows, cols = gen.config.rows, gen.config.cols
    assert (rows, cols) == ((2, 2), (2, 3), (3, 3), (3, 4), (4, 4))[level]
    for index in range(6):
        task = gen.generate(21, index)
        tiles = tiles_of(task)
        assert len({t.tobytes() for t in tiles}) == rows * cols
        identity = list(range(rows * cols))
        best = seam_cost(tiles, identity, rows, cols)
        for i, j in itertools.combinations(identity, 2):
            swapped = identity.copy()
            swapped[i], swapped[j] = j, i
            assert seam_cost(tiles, swapped, rows, cols) > best
        assert gen.verify(task, gen.reference_response(task)).passed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rows": 0}, "rows"),
        ({"cols": 9}, "cols"),
        ({"rows": 1, "cols": 1}, "cols"),
        ({"rows": 2.0}, "rows"),
        ({"tile_size": 16}, "tile_size"),
        ({"n_shapes": -1}, "n_shapes"),
        ({"grid": "3x3"}, "grid"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        JigsawConfig.from_overrides(overrides)
    assert issubclass(TaskError, ValueError)


def test_solution_inverts_the_permutation():
    assert solution([2, 0, 3, 1]) == [2, 4, 1, 3]  # tile 2 shows original 0, so position 0 takes tile 2


@pytest.mark.parametrize(
    "text",
    [
        "<answer>2 4 1 3</answer>",
        "<answer>2, 4, 1, 3</answer>",
        "<answer>[2, 4]\n[1, 3]</answer>",
        "<answer>(2;4;1;3)</answer>",
        "thinking <answer>1 2 3 4</answer> no wait <answer>2 4 1 3</answer>",
    ],
)
def test_answer_formats_that_parse(text):
    assert parse_order(text, 4) == [2, 4, 1, 3]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2 4 1 3", "no <answer>"),
        ("<answer>2 4 1 3", "no <answer>"),
        ("<answer>2 4 1</answer>", "expected 4"),
        ("<answer>1 2 3 4 5</answer>", "expected 4"),
        ("<answer>0 1 2 3</answer>", "run from 1 to 4"),
        ("<answer>2 4 1 x</answer>", "not a tile number"),
        ("<answer>2 4 1 -3</answer>", "not a tile number"),
        ("<answer>" + "1 " * 60_000 + "</answer>", "longer than"),
    ],
)
def test_answer_formats_that_fail(text, match):
    with pytest.raises(TileFormatError, match=match):
        parse_order(text, 4)


def test_repeated_tiles_are_readable_but_wrong():
    gen = JigsawGenerator()
    task = gen.generate(0)
    verdict = gen.verify(task, "<answer>1 1 1 1</answer>")
    assert (
        verdict.score == 0.0
        and "format_error" not in verdict.details
        and "more than once" in verdict.details["feedback"]
    )


# ----- the env --------------------------------------------------------------------------------
def test_env_passes_check_env_and_observes_an_image():
    assert check_env(ENV_ID).passed
    env = agentgym.make(ENV_ID, difficulty={"rows": 3, "cols": 3})
    obs, _ = env.reset(seed=0)
    user = obs[-1]
    assert user.role == "user" and len(user.images) == 1 and user.images[0].startswith(PNG_MAGIC)
    assert "9 tiles" in user.text and "reading order" in obs[0].text
    wire = Message.from_dict(json.loads(json.dumps(user.to_dict())))
    assert wire == user  # the PNG survives the OpenAI wire format
    again, _ = agentgym.make(ENV_ID, difficulty={"rows": 3, "cols": 3}).reset(seed=0)
    assert again[-1].images[0] == user.images[0]


def test_env_oracle_solves_and_unreadable_answers_are_asked_again():
    env = agentgym.make(ENV_ID, difficulty={"rows": 2, "cols": 3})
    for seed in range(4):
        env.reset(seed=seed)
        assert env.step(unwrap(env).oracle_action())[1] == 1.0
    env.reset(seed=0)
    obs, _, terminated, *_ = env.step("<answer>0 1 2 3 4 5</answer>")
    assert not terminated and "could not be read" in obs[0].text
