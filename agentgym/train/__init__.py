"""Trainer connector and RL: token-exact data, rewards (G-RA, IGPO), advantages, a trainer, exports.

Light modules (no torch): :mod:`~agentgym.train.tokens` (trajectory -> token sequence with loss
mask, sampler log-probs and turn spans), :mod:`~agentgym.train.rewards`,
:mod:`~agentgym.train.advantages`, :mod:`~agentgym.train.export`. Torch modules, imported on use:
:mod:`~agentgym.train.policy`, :mod:`~agentgym.train.archer`, :mod:`~agentgym.train.igpo`,
:mod:`~agentgym.train.trainer` (``agentgym train``).
"""

from agentgym.train.config import TrainConfig
from agentgym.train.rewards import RewardConfig, episode_rewards
from agentgym.train.tokens import TemplateMismatch, TokenEpisode, assemble, assemble_text, truncate

__all__ = [
    "RewardConfig",
    "TemplateMismatch",
    "TokenEpisode",
    "TrainConfig",
    "assemble",
    "assemble_text",
    "episode_rewards",
    "truncate",
]
