"""Web shopping (WebShop): a generated catalog behind a real shop server, WebShop's reward on buy.

``webshop/shop-text-v0`` is WebShop's text mode (``search[...]`` / ``click[...]``) over a catalog
of ``catalog_size`` products (1,000 by default, built on first use and cached on disk);
``webshop/shop-browser-v0`` is the same shop served on 127.0.0.1 and driven through the GUI
family's browser env (needs chromium and playwright).
"""

from agentgym.registry import registry

MAX_TURNS = 30
MAX_TURNS_BROWSER = 50  # typing a query takes a click, the text and Enter


def register_envs() -> None:
    """Register the web-shopping envs (idempotent)."""
    registry.register(
        "webshop/shop-text-v0",
        "agentgym.environments.webshop.text_env:ShopTextEnv",
        max_turns=MAX_TURNS,
        description="WebShop text mode: search, click and buy in a generated shop (WebShop reward).",
        extras=("web",),
    )
    registry.register(
        "webshop/shop-browser-v0",
        "agentgym.environments.webshop.browser_env:ShopBrowserEnv",
        max_turns=MAX_TURNS_BROWSER,
        description="The same shop in a real browser (screenshots + DOM, clicks and typing).",
        extras=("web", "gui"),
        system=("chromium",),
    )


register_envs()
