"""GUI environments: real pages in headless Chromium (Playwright), MiniWoB++ tasks, action prediction.

Importing this package registers the ids; nothing heavy is imported until an env is made.
"""

from agentgym.environments.gui.registration import register_envs

register_envs()
