"""Tool schemas of the search envs and the text the tools return."""

from __future__ import annotations

from collections.abc import Sequence

from agentgym.core.tools import ToolSpec, object_schema
from agentgym.environments.search.engine import MAX_QUERY_CHARS, Hit

SEARCH = ToolSpec(
    "search",
    "Search the corpus; returns the k best documents (id, title, snippet).",
    object_schema(
        {
            "query": {"type": "string", "maxLength": MAX_QUERY_CHARS},
            "k": {"type": "integer", "minimum": 1, "maximum": 10},
        },
        required=["query"],
    ),
)
OPEN = ToolSpec(
    "open",
    "Open a document by its id (as shown in search results); returns its text.",
    object_schema({"doc_id": {"type": "string", "maxLength": 200}}),
)
ANSWER = ToolSpec(
    "answer",
    "Give your final answer (a name, year or number); this ends the episode.",
    object_schema({"text": {"type": "string", "maxLength": 2000}}),
)
TEXT_FORM = (
    'Without native tool calls, write one call per line as <tool_call>{"name": "search", "arguments": '
    '{"query": "..."}}</tool_call>, or give the final answer as <answer>...</answer>.'
)


def format_hits(query: str, hits: Sequence[Hit]) -> str:
    """The text of a search result list."""
    if not hits:
        return f'No results for "{query[:200]}".'
    lines = [f'Results for "{query[:200]}":']
    lines += [f"{n}. [{h.doc_id}] {h.title}: {h.snippet}" for n, h in enumerate(hits, 1)]
    return "\n".join(lines)


def format_document(doc_id: str, title: str, text: str, limit: int) -> str:
    """The text of an opened document, cut at ``limit`` characters."""
    body = (
        text if len(text) <= limit else text[:limit] + f"... [truncated at {limit} of {len(text)} characters]"
    )
    return f"[{doc_id}] {title}\n{body}"
