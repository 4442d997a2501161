"""Unified diffs of whole trees, splitting a patch by file, and applying one with ``git apply``.

Diffs are computed in Python from the files themselves (never by running git on a tree an agent
controlled: a repository's ``.git/config`` can run programs). Applying uses ``git apply`` on a
fresh host copy that has no ``.git`` and with every git config source switched off; it refuses
paths that leave the tree.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
MAX_FILE_BYTES = 1 << 20
MAX_PATCH_BYTES = 4 << 20
NO_NEWLINE = "\\ No newline at end of file\n"
# Test files and test configuration: restored from pristine before grading (new ones removed).
PROTECTED_NAMES = {
    "conftest.py",
    "pytest.ini",
    ".pytest.ini",
    "setup.cfg",
    "tox.ini",
    "pyproject.toml",
    "sitecustomize.py",
    "usercustomize.py",
}
TEST_DIRS = {"tests", "test", "testing"}
_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$")


def is_protected(path: str) -> bool:
    """True for test files and test configuration (what grading takes from pristine, never the patch)."""
    parts = PurePosixPath(path).parts
    if not parts:
        return False
    name = parts[-1]
    if name in PROTECTED_NAMES or name.endswith(".pth"):
        return True
    if any(part in TEST_DIRS for part in parts[:-1]):
        return True
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def tree_files(root: Path) -> dict[str, Path]:
    """Regular text-diffable files under ``root`` by POSIX relative path (links and caches skipped)."""
    found: dict[str, Path] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not Path(folder, d).is_symlink())
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file() or name.endswith((".pyc", ".pyo")):
                continue
            found[path.relative_to(root).as_posix()] = path
    return found


def _text(path: Path | None) -> list[str] | None:
    """The file's lines, or None when it is missing, too large or not UTF-8 text."""
    if path is None:
        return []
    if path.stat().st_size > MAX_FILE_BYTES:
        return None
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (UnicodeDecodeError, OSError):
        return None


def file_diff(rel: str, old: list[str], new: list[str], created: bool, deleted: bool) -> str:
    """One file's diff in git's format (with git's no-newline-at-end markers)."""
    header = f"diff --git a/{rel} b/{rel}\n"
    if created:
        header += "new file mode 100644\n"
    elif deleted:
        header += "deleted file mode 100644\n"
    if not old and not new:
        return header if (created or deleted) else ""
    body = []
    for line in difflib.unified_diff(
        old, new, "/dev/null" if created else f"a/{rel}", "/dev/null" if deleted else f"b/{rel}", n=3
    ):
        if line.startswith(("---", "+++")):
            body.append(line.rstrip("\n") + "\n")
        elif line.endswith("\n"):
            body.append(line)
        else:
            body.append(line + "\n" + NO_NEWLINE)
    return header + "".join(body)


def tree_diff(base: Path, new: Path) -> str:
    """The patch from tree ``base`` to tree ``new`` (text files only; binary and huge ones skipped)."""
    old_files, new_files = tree_files(base), tree_files(new)
    parts = []
    for rel in sorted(set(old_files) | set(new_files)):
        before, after = _text(old_files.get(rel)), _text(new_files.get(rel))
        if before is None or after is None or (before == after and rel in old_files and rel in new_files):
            continue
        parts.append(file_diff(rel, before, after, rel not in old_files, rel not in new_files))
    return "".join(parts)


def split_patch(patch: str) -> list[tuple[str, str]]:
    """``[(path, that file's part of the patch)]``; paths from ``diff --git`` or ``+++``/``---`` lines.

    Trailing blank lines of a text chunk are dropped; a git binary patch (``GIT binary patch`` with
    its ``literal``/``delta`` blocks) keeps the one blank line that ends its last block.
    """
    chunks: list[list[str]] = []
    for line in patch.splitlines(keepends=True):
        starts = line.startswith("diff --git ")
        bare_start = line.startswith("--- ") and (not chunks or _has_hunk(chunks[-1]))
        if starts or bare_start or not chunks:
            chunks.append([])
        chunks[-1].append(line)
    result = []
    for chunk in chunks:
        path = _chunk_path(chunk)
        while len(chunk) > 1 and not chunk[-1].strip("\r\n"):
            chunk.pop()  # trailing blank lines (an editor's or a shell's) are not context lines
        if any(line.rstrip("\r\n") == "GIT binary patch" for line in chunk):
            chunk.append("\n")  # a binary patch's literal/delta block ends with a blank line git needs
        if path is not None:
            result.append((path, "".join(chunk)))
    return result


def _has_hunk(lines: list[str]) -> bool:
    return any(line.startswith("@@") for line in lines)


def _chunk_path(lines: list[str]) -> str | None:
    for line in lines:
        match = _HEADER.match(line.rstrip("\n"))
        if match:
            return match.group(2)
    for prefix in ("+++ ", "--- "):
        for line in lines:
            if line.startswith(prefix):
                name = line[4:].split("\t")[0].strip()
                if name != "/dev/null":
                    return name[2:] if name.startswith(("a/", "b/")) else name
    return None


def apply_patch(tree: Path, patch: str) -> str | None:
    """Apply ``patch`` to host ``tree`` with ``git apply``; None on success, else git's message."""
    if not patch.strip():
        return None
    if len(patch.encode("utf-8")) > MAX_PATCH_BYTES:
        return f"the patch is larger than {MAX_PATCH_BYTES >> 20} MiB"
    with tempfile.TemporaryDirectory(prefix="agentgym-swe-apply-") as scratch:
        patch_file = Path(scratch, "change.patch")
        patch_file.write_text(patch if patch.endswith("\n") else patch + "\n", encoding="utf-8")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CEILING_DIRECTORIES": str(tree.resolve().parent),
            "LANG": "C",
        }
        argv = ["git", "apply", "--whitespace=nowarn", "--recount", str(patch_file)]
        try:
            proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"git apply could not run: {exc}"
    if proc.returncode != 0:
        return (proc.stderr or proc.stdout).strip()[:2000] or f"git apply failed ({proc.returncode})"
    return None


def similarity(patch: str, oracle: str, cap: int = 50_000) -> float:
    """SWE-RL's patch similarity: difflib's ratio of the two patch texts (each cut at ``cap`` chars)."""
    return difflib.SequenceMatcher(None, patch[:cap], oracle[:cap]).ratio()
