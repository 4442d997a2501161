"""``agentgym webshop``: build a catalog, serve the shop to a browser, run the oracle.

``agentgym webshop serve --catalog 10000 [--port 8000]`` builds (first time) and serves the shop;
open the printed address, read the instruction, search, pick options and buy to see your score.
``agentgym webshop build --catalog 100000`` only builds and caches a catalog and its index.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from agentgym.core.errors import ConfigError

webshop_app = typer.Typer(
    name="webshop",
    help=(
        "The web-shopping environment's shop server and catalogs.\n\n"
        "  agentgym webshop serve --catalog 10000        # then open http://127.0.0.1:8000/\n\n"
        "  agentgym webshop build --catalog 100000       # build and cache a catalog + BM25 index"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

CatalogOpt = Annotated[int, typer.Option("--catalog", help="Number of products (1 to 10,000,000).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Catalog seed.")]


def _check_size(size: int) -> None:
    if not 1 <= size <= 10_000_000:
        raise ConfigError(f"--catalog must be in [1, 10000000], got {size}")


@webshop_app.command("build")
def build_command(catalog: CatalogOpt = 10_000, seed: SeedOpt = 0) -> None:
    """Generate a catalog and its BM25 index into the cache (no-op when cached)."""
    from agentgym.environments.webshop.store import build_catalog

    _check_size(catalog)
    start = time.perf_counter()
    path = build_catalog(catalog, seed, progress=True)
    typer.echo(f"catalog of {catalog:,} products at {path} ({time.perf_counter() - start:.1f} s)")


@webshop_app.command("serve")
def serve_command(
    catalog: CatalogOpt = 10_000,
    seed: SeedOpt = 0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the shop (search, results, product pages with options and tabs, buy) to a browser."""
    import uvicorn

    from agentgym.environments.webshop.app import ShopServer

    _check_size(catalog)
    typer.echo(f"loading a catalog of {catalog:,} products (built on first use) ...")
    server = ShopServer(catalog_size=catalog, catalog_seed=seed)
    typer.echo(f"shop ready: open http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(server.app(), host=host, port=port, log_level="warning")
