"""Task generators, curricula and frozen held-out suites (``agentgym.tasks``)."""
