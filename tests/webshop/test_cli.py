"""``agentgym webshop``: build a catalog from the command line; bad sizes are one-line errors."""

import pytest

from agentgym.cli.main import main
from agentgym.environments.webshop.store import catalog_dir


def test_build_command_builds_and_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AGENTGYM_CACHE", str(tmp_path))
    main(["webshop", "build", "--catalog", "1500", "--seed", "4"])
    out = capsys.readouterr().out
    assert "catalog of 1,500 products" in out
    assert (catalog_dir(1500, 4, tmp_path) / "products.parquet").exists()


def test_bad_catalog_size_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["webshop", "build", "--catalog", "0"])
    assert exc.value.code == 2 and "--catalog must be in" in capsys.readouterr().err
