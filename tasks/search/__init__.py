"""Search tasks: a fictional world generator, multi-hop questions over it, bring-your-own QA.

The ``search/qa`` generator is registered with the search envs (:mod:`agentgym.environments.search`).
"""
