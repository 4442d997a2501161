"""Sandboxes for untrusted code (``agentgym.sandbox``); the backends arrive with the sandbox issue."""
