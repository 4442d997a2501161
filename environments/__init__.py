"""Built-in environment families (``agentgym.environments``); importing this registers them."""

from agentgym.environments import puzzles as _puzzles  # noqa: F401  (registers puzzles/*)
from agentgym.environments import rg as _rg  # noqa: F401  (registers rg/* when reasoning_gym is installed)
