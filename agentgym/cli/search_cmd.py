"""``agentgym search``: export a generated world as a corpus + QA files, and query a corpus.

``agentgym search export --docs 2000 --questions 100 --hops 2 --out data/`` writes
``corpus.jsonl`` and ``qa.jsonl`` in the bring-your-own format (held-out questions with
``--split heldout``); ``agentgym search query "Thedrimstead town" --docs 2000`` (or
``--corpus corpus.jsonl``) prints the best documents with snippets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agentgym.core.errors import ConfigError

search_app = typer.Typer(
    name="search",
    help=(
        "The search environment's corpora and engine.\n\n"
        "  agentgym search export --docs 2000 --questions 100 --hops 2 --out data/\n\n"
        '  agentgym search query "Thedrimstead town" --docs 2000 -k 5'
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
DocsOpt = Annotated[int, typer.Option("--docs", help="Documents in the generated world.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="World seed.")]


@search_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for corpus.jsonl and qa.jsonl.")],
    docs: DocsOpt = 2000,
    seed: SeedOpt = 0,
    questions: Annotated[int, typer.Option("--questions", help="Questions to write.")] = 100,
    hops: Annotated[int, typer.Option("--hops", help="Hops per question (1-4).")] = 2,
    split: Annotated[str, typer.Option("--split", help="train or heldout.")] = "train",
) -> None:
    """Write a generated world's articles and questions as bring-your-own JSONL files."""
    from agentgym.tasks.search.articles import iter_documents
    from agentgym.tasks.search.generator import SearchQAGenerator
    from agentgym.tasks.search.world import get_world
    from agentgym.tasks.splits import generate_split

    if split not in ("train", "heldout"):
        raise ConfigError(f"--split must be train or heldout, got {split!r}")
    gen = SearchQAGenerator(hops=hops, world_seed=seed, n_docs=docs)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w") as handle:
        for doc in iter_documents(get_world(gen.config.world())):
            handle.write(json.dumps({"id": doc.id, "title": doc.title, "text": doc.text}) + "\n")
    with (out / "qa.jsonl").open("w") as handle:
        for task in generate_split(gen, seed, questions, split):  # type: ignore[arg-type]
            row = {
                "question": task.spec["question"],
                "answer": task.answer[0],
                "aliases": task.answer[1:],
                "supporting": task.spec["path"],
                "hops": task.spec["hops"],
            }
            handle.write(json.dumps(row) + "\n")
    typer.echo(f"wrote {docs} documents and {questions} {split} questions to {out}")


@search_app.command("query")
def query_command(
    query: Annotated[str, typer.Argument(help="The search query.")],
    corpus: Annotated[Path | None, typer.Option("--corpus", help="A JSONL corpus (id, title, text).")] = None,
    docs: DocsOpt = 2000,
    seed: SeedOpt = 0,
    k: Annotated[int, typer.Option("-k", help="Number of results.")] = 5,
) -> None:
    """Search a JSONL corpus or a generated world with BM25 and print the results."""
    from agentgym.environments.search.corpus import JsonlCorpus, world_corpus
    from agentgym.environments.search.engine import SearchEngine
    from agentgym.environments.search.tools import format_hits
    from agentgym.tasks.search.world import WorldConfig

    source = JsonlCorpus(corpus) if corpus is not None else world_corpus(WorldConfig(seed, docs))
    typer.echo(format_hits(query, SearchEngine(source).search(query, k)))
