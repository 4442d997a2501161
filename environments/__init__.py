"""Built-in environment families (``agentgym.environments``); importing this registers them."""

from agentgym.environments import games as _games  # noqa: F401  (registers games/*; TextArena's when installed)
from agentgym.environments import gui as _gui  # noqa: F401  (registers gui/*)
from agentgym.environments import puzzles as _puzzles  # noqa: F401  (registers puzzles/*)
from agentgym.environments import rg as _rg  # noqa: F401  (registers rg/* when reasoning_gym is installed)
from agentgym.environments import search as _search  # noqa: F401  (registers search/*)
from agentgym.environments import swe as _swe  # noqa: F401  (registers swe/*)
from agentgym.environments import webshop as _webshop  # noqa: F401  (registers webshop/*)
