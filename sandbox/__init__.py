"""Sandboxes for untrusted code (``agentgym.sandbox``): local (bubblewrap) and Docker backends.

:func:`make_sandbox` builds one by backend name; see :mod:`agentgym.sandbox.base` for the contract.
"""

from agentgym.sandbox.base import ExecResult, Limits, Sandbox
from agentgym.sandbox.factory import available_backends, make_sandbox

__all__ = ["ExecResult", "Limits", "Sandbox", "available_backends", "make_sandbox"]
