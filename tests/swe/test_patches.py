from agentgym.tasks.swe.patches import apply_patch, is_protected, similarity, split_patch, tree_diff


def write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_tree_diff_round_trips_through_git_apply(tmp_path):
    old, new, target = tmp_path / "old", tmp_path / "new", tmp_path / "target"
    base = {"a.py": "x = 1\ny = 2\n", "pkg/b.py": "print('b')", "gone.txt": "bye\n"}
    write(old, base)
    write(target, base)
    write(new, {"a.py": "x = 1\ny = 3\n", "pkg/b.py": "print('B')", "pkg/new.py": "z = 0\n"})
    (new / ".git").mkdir()
    (new / ".git" / "config").write_text("ignored")
    patch = tree_diff(old, new)
    assert "new file mode" in patch and "deleted file mode" in patch and "No newline at end of file" in patch
    assert ".git" not in patch
    assert [p for p, _ in split_patch(patch)] == ["a.py", "gone.txt", "pkg/b.py", "pkg/new.py"]
    assert apply_patch(target, patch) is None
    assert tree_diff(new, target) == ""


def test_patch_that_does_not_apply_or_escapes_is_refused(tmp_path):
    write(tmp_path / "t", {"a.py": "x = 1\n"})
    bad = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 2\n+x = 3\n"
    assert apply_patch(tmp_path / "t", bad) is not None
    escape = (
        "diff --git a/../evil.py b/../evil.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/../evil.py\n@@ -0,0 +1 @@\n+x\n"
    )
    assert apply_patch(tmp_path / "t", escape) is not None
    assert not (tmp_path / "evil.py").exists()


def test_trailing_blank_lines_do_not_break_a_patch(tmp_path):
    write(tmp_path / "t", {"a.py": "x = 1\ny = 2\n"})
    patch = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n\n\n"
    assert apply_patch(tmp_path / "t", "".join(chunk for _, chunk in split_patch(patch))) is None
    assert (tmp_path / "t" / "a.py").read_text() == "x = 1\ny = 3\n"


def test_split_patch_reads_plain_unified_diffs():
    plain = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-c\n+d\n"
    assert [p for p, _ in split_patch(plain)] == ["x.py", "y.py"]


def test_protected_paths_cover_tests_and_their_configuration():
    for rel in (
        "conftest.py",
        "pkg/sub/conftest.py",
        "tests/data.txt",
        "pkg/tests/test_x.py",
        "test_mod.py",
        "mod_test.py",
        "pytest.ini",
        "setup.cfg",
        "tox.ini",
        "pyproject.toml",
        "sitecustomize.py",
        "x.pth",
    ):
        assert is_protected(rel), rel
    for rel in ("pkg/mod.py", "pkg/testing_utils.py", "README.rst", "setup.py"):
        assert not is_protected(rel), rel


def test_similarity_is_difflib_ratio():
    assert similarity("abc", "abc") == 1.0
    assert 0.0 < similarity("abcd", "abxx") < 1.0
    assert similarity("", "abc") == 0.0


def _git(repo, *args):
    import os
    import subprocess

    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def test_git_binary_patches_survive_the_split_and_apply(tmp_path):
    import shutil

    repo, target = tmp_path / "repo", tmp_path / "target"
    repo.mkdir()
    blob = bytes(range(256)) * 8
    (repo / "a.py").write_text("x = 1\n")
    (repo / "data.bin").write_bytes(blob)
    (repo / "old.bin").write_bytes(b"\x00\x01gone")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    shutil.copytree(repo, target, ignore=shutil.ignore_patterns(".git"))
    changed = blob[:1000] + b"\xff\x00changed" + blob[1000:]
    (repo / "data.bin").write_bytes(changed)
    (repo / "new.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00fresh")
    (repo / "old.bin").unlink()
    (repo / "a.py").write_text("x = 2\n")
    _git(repo, "add", "-A")
    patch = _git(repo, "diff", "--cached", "--binary")
    assert "GIT binary patch" in patch and patch.endswith("\n\n")
    parts = split_patch(patch + "\n\n")  # an editor's extra blank lines too
    assert [p for p, _ in parts] == ["a.py", "data.bin", "new.bin", "old.bin"]
    assert all(chunk.endswith("\n\n") for p, chunk in parts if p.endswith(".bin"))
    assert apply_patch(target, "".join(chunk for _, chunk in parts)) is None
    assert (target / "data.bin").read_bytes() == changed
    assert (target / "new.bin").read_bytes() == b"\x89PNG\r\n\x1a\n\x00\x00fresh"
    assert not (target / "old.bin").exists() and (target / "a.py").read_text() == "x = 2\n"
    fresh = tmp_path / "fresh"  # each file's part applies on its own as well
    fresh.mkdir()
    assert apply_patch(fresh, dict(parts)["new.bin"]) is None
    assert (fresh / "new.bin").read_bytes() == b"\x89PNG\r\n\x1a\n\x00\x00fresh"
