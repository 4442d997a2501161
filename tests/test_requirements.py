"""Extras and programs an env needs: read from the installed metadata, refused with one command."""

import pytest

import agentgym.requirements as req
from agentgym.core.errors import ConfigError
from agentgym.registry import Registry


def test_extras_are_read_from_the_installed_metadata_with_self_references_followed():
    assert "search" in req.known_extras() and "demo" in req.known_extras()
    assert "bm25s" in req.extra_distributions("search")
    # train = agentgym[hf,data] + peft + matplotlib: the nested extras' packages are included
    train = req.extra_distributions("train")
    assert {"peft", "torch", "datasets"} <= train and "agentgym" not in train


def test_missing_extra_and_program_each_come_with_the_command_that_installs_them(monkeypatch):
    monkeypatch.setattr(req, "_installed", lambda name: name != "bm25s")
    monkeypatch.setattr(req, "_program_path", lambda program: None)
    problems = req.problems(["search", "openai"], ["chromium"])
    assert problems == [
        "missing Python packages (search: bm25s); install them with: pip install 'agentgym[search]'",
        "missing programs (chromium); install them with: sudo apt-get install -y chromium",
    ]


def test_unknown_extra_is_reported():
    assert req.problems(["serach"], []) == [
        f"unknown extras ['serach'] (agentgym declares {', '.join(req.known_extras())})"
    ]


def test_program_override_variable_is_honoured(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("AGENTGYM_CHROMIUM", str(fake))
    assert req.missing_programs(["chromium"]) == []
    monkeypatch.setenv("AGENTGYM_CHROMIUM", str(tmp_path / "absent"))
    assert req.missing_programs(["chromium"]) == ["chromium"]


def test_make_refuses_an_env_whose_extra_is_missing_before_building_it(monkeypatch):
    built = []
    reg = Registry(builtin_modules=())
    reg._loaded = True
    reg.register("toy/needs-search-v0", lambda **kw: built.append(kw), extras=("search",))
    monkeypatch.setattr(req, "_installed", lambda name: name != "bm25s")
    with pytest.raises(ConfigError, match=r"toy/needs-search-v0 cannot run here: .*agentgym\[search\]"):
        reg.make("toy/needs-search-v0")
    assert built == []


def test_the_cli_error_line_keeps_the_brackets_of_the_install_command(monkeypatch, capsys):
    from agentgym.cli.main import main

    monkeypatch.setattr(req, "_installed", lambda name: name != "bm25s")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "search/qa-v0", "--agent", "oracle", "-n", "1", "--out", "/tmp/agentgym-never-written"])
    assert exit_info.value.code == 2
    assert "pip install 'agentgym[search]'" in capsys.readouterr().err
