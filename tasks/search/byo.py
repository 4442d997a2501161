"""Bring your own QA: questions over your own corpus, read from a JSONL file.

One question per line: ``{"question": str, "answer": str | [str, ...], "aliases": [str, ...]
(optional), "supporting": [doc id, ...] (optional: the documents that hold the answer, in reading
order; the oracle opens them), "hops": int (optional, default len(supporting) or 1)}``. Every task
records the fingerprint of the corpus it was made for (``spec["corpus"]``).
"""

from __future__ import annotations

import json
from pathlib import Path

from agentgym.core.errors import ConfigError
from agentgym.core.task import Task

BYO_GENERATOR = "search/byo"
MAX_QUESTION_CHARS = 4000
MAX_ANSWERS = 64
MAX_LINE_BYTES = 200_000


def load_qa(path: str | Path, corpus_fingerprint: str) -> list[Task]:
    """The tasks of a QA JSONL file posed on the corpus with ``corpus_fingerprint``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"QA file {path} does not exist")
    tasks = []
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            if raw.strip():
                tasks.append(_task(raw, f"{path}:{lineno}", corpus_fingerprint))
    if not tasks:
        raise ConfigError(f"QA file {path} holds no questions")
    return tasks


def _strings(value: object, where: str, field: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out = [
        str(v)
        for v in values
        if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip()
    ]
    if len(out) != len(values) or len(out) > MAX_ANSWERS:
        raise ConfigError(f"{where}: {field!r} must be a string or a list of at most {MAX_ANSWERS} strings")
    return out


def _task(raw: bytes, where: str, corpus_fingerprint: str) -> Task:
    if len(raw) > MAX_LINE_BYTES:
        raise ConfigError(f"{where}: line longer than {MAX_LINE_BYTES} bytes")
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: each line must be a JSON object")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
        raise ConfigError(
            f"{where}: 'question' must be a non-empty string of at most {MAX_QUESTION_CHARS} chars"
        )
    answers = _strings(record.get("answer"), where, "answer") + _strings(
        record.get("aliases", []), where, "aliases"
    )
    if not answers:
        raise ConfigError(f"{where}: 'answer' is missing or empty")
    supporting = _strings(record.get("supporting", []), where, "supporting")
    hops = record.get("hops", max(1, len(supporting)))
    if not isinstance(hops, int) or isinstance(hops, bool) or hops < 1:
        raise ConfigError(f"{where}: 'hops' must be an int >= 1")
    spec = {
        "generator": BYO_GENERATOR,
        "corpus": corpus_fingerprint,
        "question": question.strip(),
        "path": supporting,
        "hops": hops,
    }
    return Task(
        "search", spec, list(dict.fromkeys(answers)), {"hops": hops}, {"source": where.rsplit(":", 1)[0]}
    )
