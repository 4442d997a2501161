"""Search environments: a local search engine over generated or your own corpora.

- ``search/qa-v0``: multi-turn QA with ``search``/``open``/``answer`` tools (:mod:`.qa`);
- ``search/self-search-v0``: SSRL self-search, the search tool answered by a model (:mod:`.self_search`);
- ``search/ssp-proposer-v0``: the proposer side of search self-play with the RAG check (:mod:`.selfplay`).
"""

from agentgym.registry import SuitePlan, registry

#: Eval and demo plan of search/qa-v0: no turn cap in eval (its own budget ends an episode); the
#: demo poses one question per hop count (1-4), at most 10 turns (the oracle needs <= 9).
QA_PLAN = SuitePlan(max_turns=None, demo_levels=4, demo_per_level=1, demo_max_turns=10)

#: env id -> (entry point, kwargs, max turns, description)
SEARCH_ENVS: dict[str, tuple[str, dict, int, str]] = {
    "search/qa-v0": (
        "agentgym.environments.search.qa:SearchQAEnv",
        {},
        16,
        "Multi-hop QA over a generated fictional encyclopedia (BM25 search/open/answer tools).",
    ),
    "search/self-search-v0": (
        "agentgym.environments.search.self_search:SelfSearchEnv",
        {},
        8,
        "SSRL self-search: the policy (or another model) writes the search results itself.",
    ),
    "search/ssp-proposer-v0": (
        "agentgym.environments.search.selfplay:ProposerEnv",
        {},
        16,
        "Search self-play proposer: search, then propose a question and answer (RAG-checked).",
    ),
}


def register_envs() -> None:
    """Register the search/qa generator, the search envs and ``agentgym search`` (idempotent)."""
    registry.register_command("search", "agentgym.cli.search_cmd:search_app")
    registry.register_generator("search/qa", "agentgym.tasks.search.generator:SearchQAGenerator")
    for env_id, (entry, kwargs, max_turns, description) in SEARCH_ENVS.items():
        qa = env_id == "search/qa-v0"
        registry.register(
            env_id,
            entry,
            kwargs=kwargs,
            max_turns=max_turns,
            description=description,
            extras=("search",),
            generator="search/qa" if qa else None,
            suite_plan=QA_PLAN if qa else None,
        )


register_envs()
