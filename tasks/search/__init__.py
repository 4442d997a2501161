"""Search tasks: a fictional world generator, multi-hop questions over it, bring-your-own QA.

Importing this registers the ``search/qa`` generator.
"""

from agentgym.tasks.registry import register_generator

register_generator("search/qa", "agentgym.tasks.search.generator:SearchQAGenerator")
