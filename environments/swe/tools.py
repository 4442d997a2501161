"""The SWE env's tools and their implementation over the task's sandbox.

The repository lives in the sandbox's work dir at ``repo/``; every tool goes through the sandbox
API (``read_file``/``write_file``/``exec``), so the same code serves the local and docker
backends, and whatever a tool runs is confined there. Paths are relative to the repository and
may not leave it. Outputs are cut at :data:`OUTPUT_CAP` characters with a notice.
"""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath
from typing import Any

from agentgym.core.errors import SandboxError
from agentgym.core.tools import ToolSpec

REPO = "repo"
OUTPUT_CAP = 8000
VIEW_MAX_LINES = 300
SEARCH_MAX_MATCHES = 100
RUN_MAX_TIMEOUT = 120.0
FILE_CAP = 1 << 20

_PATH = {"type": "string", "maxLength": 500, "description": "Path relative to the repository root."}
TOOLS = (
    ToolSpec(
        "list_dir",
        "List a folder of the repository (folders end with '/').",
        {"type": "object", "properties": {"path": _PATH}, "additionalProperties": False},
    ),
    ToolSpec(
        "view_file",
        f"Show a file with line numbers, lines start_line..end_line (1-based, at most {VIEW_MAX_LINES}).",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
            },
            "required": ["path"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "search",
        "Search file contents with grep (fixed string unless regex=true); shows path:line: text.",
        {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "maxLength": 500},
                "path": _PATH,
                "regex": {"type": "boolean"},
            },
            "required": ["pattern"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "edit",
        "Replace the exact string old_string (must occur exactly once in the file) with new_string.",
        {
            "type": "object",
            "properties": {
                "path": _PATH,
                "old_string": {"type": "string", "maxLength": 50_000},
                "new_string": {"type": "string", "maxLength": 50_000},
            },
            "required": ["path", "old_string", "new_string"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "create_file",
        "Create a new file (or overwrite one) with the given content.",
        {
            "type": "object",
            "properties": {"path": _PATH, "content": {"type": "string", "maxLength": 200_000}},
            "required": ["path", "content"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "run",
        "Run a shell command in the repository (sandboxed, no network); e.g. python3 -m pytest -q tests.",
        {
            "type": "object",
            "properties": {
                "command": {"type": "string", "maxLength": 4000},
                "timeout": {"type": "number", "minimum": 1, "maximum": RUN_MAX_TIMEOUT},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "submit",
        "Submit your changes to the repository as the fix; the hidden tests then judge it.",
        {"type": "object", "properties": {}, "additionalProperties": False},
    ),
)


class ToolFailure(Exception):
    """A tool call that could not be carried out; the message is shown to the agent."""


def truncate(text: str, cap: int = OUTPUT_CAP) -> str:
    """``text`` cut at ``cap`` characters with a notice saying how much was left out."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n[... output truncated: {len(text) - cap} more characters not shown ...]"


def repo_path(path: str | None) -> str:
    """``repo/<path>`` after checking ``path`` stays inside the repository."""
    text = (path or ".").strip() or "."
    pure = PurePosixPath(text)
    if pure.is_absolute() or ".." in pure.parts or "\x00" in text:
        raise ToolFailure(f"path {text!r} must be relative to the repository root, without '..'")
    return str(PurePosixPath(REPO, pure))


class Workspace:
    """The tools' implementation on one sandbox whose ``repo/`` holds the agent's repository."""

    def __init__(self, sandbox: Any, run_env: dict[str, str] | None = None) -> None:
        self.sandbox = sandbox
        self.run_env = dict(run_env or {})
        self.disk_full = False  # the last command filled the sandbox's disk quota

    def _exec(self, argv: list[str] | str, timeout: float = 30.0) -> tuple[int, str, str, bool]:
        result = self.sandbox.exec(argv, timeout=timeout, env=self.run_env)
        self.disk_full = bool(result.disk_full)
        return result.exit_code, result.stdout, result.stderr, result.timed_out

    def _read(self, path: str) -> str:
        target = repo_path(path)
        try:
            data = self.sandbox.read_file(target, max_bytes=FILE_CAP)
        except SandboxError as exc:
            raise ToolFailure(f"cannot read {path!r}: no such file (or not a regular file)") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolFailure(f"{path!r} is not UTF-8 text") from exc

    def list_dir(self, path: str = ".") -> str:
        """The entries of a folder, folders first, sorted."""
        target = repo_path(path)
        code, out, err, _ = self._exec(
            ["find", target, "-mindepth", "1", "-maxdepth", "1", "-printf", "%y %P\\n"]
        )
        if code != 0:
            raise ToolFailure(f"cannot list {path!r}: {err.strip() or 'no such folder'}")
        entries = [line.split(" ", 1) for line in out.splitlines() if " " in line]
        dirs = sorted(name + "/" for kind, name in entries if kind == "d")
        files = sorted(name for kind, name in entries if kind != "d")
        return truncate("\n".join(dirs + files) or "(empty folder)")

    def view_file(self, path: str, start_line: int = 1, end_line: int | None = None) -> str:
        """Numbered lines of a file."""
        lines = self._read(path).splitlines()
        if not lines:
            return f"{path} is empty"
        last = min(len(lines), end_line if end_line is not None else start_line + VIEW_MAX_LINES - 1)
        last = min(last, start_line + VIEW_MAX_LINES - 1)
        if start_line > len(lines) or last < start_line:
            raise ToolFailure(f"{path} has {len(lines)} lines; lines {start_line}..{last} do not exist")
        body = "\n".join(f"{n:>5}  {lines[n - 1]}" for n in range(start_line, last + 1))
        more = (
            f"\n[{len(lines) - last} more lines; view them with start_line={last + 1}]"
            if last < len(lines)
            else ""
        )
        return truncate(f"{path} (lines {start_line}-{last} of {len(lines)})\n{body}{more}")

    def search(self, pattern: str, path: str = ".", regex: bool = False) -> str:
        """Grep over the repository: ``path:line: text`` lines, sorted, capped."""
        if not pattern:
            raise ToolFailure("the search pattern is empty")
        target = repo_path(path)
        argv = ["grep", "-rnI", "--exclude-dir=.git", "-E" if regex else "-F", "-e", pattern, "--", target]
        code, out, err, timed_out = self._exec(argv)
        if timed_out:
            raise ToolFailure("the search timed out")
        if code == 2:
            raise ToolFailure(f"grep failed: {err.strip()[:500]}")
        prefix = REPO + "/"
        lines = sorted(line[len(prefix) :] if line.startswith(prefix) else line for line in out.splitlines())
        if not lines:
            return f"no matches for {pattern!r}"
        shown = lines[:SEARCH_MAX_MATCHES]
        extra = f"\n[{len(lines) - len(shown)} more matches not shown]" if len(lines) > len(shown) else ""
        return truncate("\n".join(line[:300] for line in shown) + extra)

    def edit(self, path: str, old_string: str, new_string: str) -> str:
        """Exact, unique string replacement."""
        if not old_string:
            raise ToolFailure(
                "old_string is empty; give the exact text to replace (use create_file for new files)"
            )
        text = self._read(path)
        count = text.count(old_string)
        if count == 0:
            raise ToolFailure(f"old_string was not found in {path}; copy it exactly (whitespace included)")
        if count > 1:
            raise ToolFailure(
                f"old_string occurs {count} times in {path}; include more surrounding lines to make it unique"
            )
        self.sandbox.write_file(repo_path(path), text.replace(old_string, new_string, 1))
        line = text[: text.index(old_string)].count("\n") + 1
        return f"Edited {path}: replaced {len(old_string.splitlines())} line(s) starting at line {line}."

    def create_file(self, path: str, content: str) -> str:
        """Write a file (creating folders as needed)."""
        target = repo_path(path)
        if target == REPO or path.endswith("/"):
            raise ToolFailure("create_file needs a file path")
        self.sandbox.write_file(target, content)
        return f"Wrote {path} ({len(content.splitlines())} lines)."

    def run(self, command: str, timeout: float = 30.0) -> str:
        """A shell command in the repository, with its exit code and (capped) output."""
        if not command.strip():
            raise ToolFailure("the command is empty")
        limit = max(1.0, min(float(timeout), RUN_MAX_TIMEOUT))
        code, out, err, timed_out = self._exec(f"cd {shlex.quote(REPO)} && {command}", timeout=limit)
        status = f"timed out after {limit:g} s" if timed_out else f"exit code {code}"
        if self.disk_full:
            status += ", disk full: the sandbox's disk quota is used up"
        text = out + (f"\n[stderr]\n{err}" if err.strip() else "")
        return truncate(f"[{status}]\n{text}".rstrip())
