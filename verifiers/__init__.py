"""Verifiers (``agentgym.verifiers``): rule-based, model-based and hybrid scoring of responses."""
