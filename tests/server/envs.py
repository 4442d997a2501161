"""Envs the server tests serve: imported by the server's workers (``--import tests.server.envs``)."""

from __future__ import annotations

import io
import time
from typing import Any

from agentgym.core.env import StepResult
from agentgym.core.messages import ImagePart, Message, TextPart
from agentgym.registry import registry
from tests.toy_envs import GuessEnv


class HangEnv(GuessEnv):
    """A guessing game whose step never returns when the reply says 'hang'."""

    def _step(self, action: Message) -> StepResult:
        if "hang" in action.text:
            while True:  # a hung env: only killing its process frees it
                time.sleep(0.05)
        return super()._step(action)


class PictureEnv(GuessEnv):
    """A guessing game whose first observation carries a PNG image."""

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        obs, info = super()._reset(options)
        from PIL import Image

        buf = io.BytesIO()
        shade = int(self.np_random.integers(0, 256))
        Image.new("RGB", (8, 8), (shade, 0, 255 - shade)).save(buf, format="PNG")
        return [*obs, Message("user", (TextPart("look:"), ImagePart(buf.getvalue())))], info


ENVS = {
    "toy/guess-v0": (GuessEnv, {}),
    "toy/slow-guess-v0": (GuessEnv, {"step_delay": 0.05}),
    "toy/hang-v0": (HangEnv, {}),
    "toy/picture-v0": (PictureEnv, {}),
}
for _id, (_cls, _kwargs) in ENVS.items():
    if _id not in registry:
        registry.register(_id, _cls, kwargs=_kwargs, max_turns=12, description="server test env")
