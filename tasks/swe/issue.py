"""Issue text written from a bug's failing behaviour (never from the changed line).

The text names the package and the public API around the bug (module and function, as a user
filing a report would know them), quotes up to three distinct failure messages the hidden tests
produced (paths and line numbers stripped), and says how many tests regressed. It never quotes
source lines, line numbers or the mutation itself.
"""

from __future__ import annotations

import re

from agentgym.tasks.swe.mutate import Mutation

_LOCATION = re.compile(r"(/[\w./-]+\.py|[\w./-]+\.py):\d+(:\s*)?")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # object addresses differ from run to run
MAX_MESSAGE = 300


def _module_name(path: str, python_path: tuple[str, ...]) -> str:
    rel = path
    for root in python_path:
        prefix = root.rstrip("/") + "/"
        if root not in (".", "") and rel.startswith(prefix):
            rel = rel[len(prefix) :]
    rel = rel[: -len(".py")] if rel.endswith(".py") else rel
    parts = [p for p in rel.split("/") if p != "__init__"]
    return ".".join(parts)


def _api_name(mutation: Mutation) -> str | None:
    """The public function or class the bug sits in, if it has a public name."""
    names = [n for n in mutation.function.split(".") if n]
    public = [n for n in names if not n.startswith("_") or (n.startswith("__") and n.endswith("__"))]
    return ".".join(names) if names and public == names else (names[0] if names and public else None)


def clean_message(text: str) -> str:
    """A failure message with file locations removed, first lines only, length-capped."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()][:4]
    cleaned = _ADDRESS.sub("", _LOCATION.sub("", "\n".join(lines)))
    return cleaned if len(cleaned) <= MAX_MESSAGE else cleaned[: MAX_MESSAGE - 3] + "..."


def write_issue(
    package: str,
    version: str,
    mutations: list[Mutation],
    failing: list[str],
    messages: dict[str, str],
    python_path: tuple[str, ...] = (".",),
) -> str:
    """The issue text for a task whose ``failing`` tests gave ``messages``."""
    places = []
    for mutation in mutations:
        module = _module_name(mutation.path, python_path)
        api = _api_name(mutation)
        places.append(f"`{module}.{api}`" if api else f"the `{module}` module")
    places = list(dict.fromkeys(places))
    quoted: list[str] = []
    for test_id in failing:
        message = clean_message(messages.get(test_id, ""))
        if message and message not in quoted:
            quoted.append(message)
        if len(quoted) == 3:
            break
    where = " and ".join(places)
    lines = [
        f"# {package} {version}: wrong behaviour in {where}",
        "",
        f"After a recent change, code that uses {where} no longer behaves as documented: "
        + (
            "1 check of the project's test suite that used to pass now fails."
            if len(failing) == 1
            else f"{len(failing)} checks of the project's test suite that used to pass now fail."
        ),
    ]
    if quoted:
        lines += ["", "What goes wrong (failure output):", ""]
        for message in quoted:
            lines += ["```", message, "```"]
    lines += [
        "",
        "Please fix the library so that it behaves correctly again. The tests themselves are right "
        "and must not be changed.",
    ]
    return "\n".join(lines) + "\n"
