"""Search environments: a local search engine over generated or your own corpora.

- ``search/qa-v0``: multi-turn QA with ``search``/``open``/``answer`` tools (:mod:`.qa`);
- ``search/self-search-v0``: SSRL self-search, the search tool answered by a model (:mod:`.self_search`);
- ``search/ssp-proposer-v0``: the proposer side of search self-play with the RAG check (:mod:`.selfplay`).
"""

from agentgym.registry import registry
from agentgym.tasks import search as _tasks  # noqa: F401  (registers the search/qa generator)

#: env id -> (entry point, kwargs, max turns, description)
SEARCH_ENVS: dict[str, tuple[str, dict, int, str]] = {
    "search/qa-v0": (
        "agentgym.environments.search.qa:SearchQAEnv",
        {"generator": "search/qa"},
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
    """Register the search envs (idempotent)."""
    for env_id, (entry, kwargs, max_turns, description) in SEARCH_ENVS.items():
        if env_id not in registry:
            registry.register(
                env_id, entry, kwargs=kwargs, max_turns=max_turns, description=description, extras=("search",)
            )


register_envs()
