"""Web shopping (WebShop): a generated catalog behind a real shop server, WebShop's reward on buy.

``webshop/shop-text-v0`` is WebShop's text mode (``search[...]`` / ``click[...]``) over a catalog
of ``catalog_size`` products (1,000 by default, built on first use and cached on disk);
``webshop/shop-browser-v0`` is the same shop served on 127.0.0.1 and driven through the GUI
family's browser env (needs chromium and playwright).
"""

from agentgym.registry import SuitePlan, registry

MAX_TURNS = 30
MAX_TURNS_BROWSER = 50  # typing a query takes a click, the text and Enter
#: Eval poses the frozen held-out instructions (levels: 1-3 attributes) under the registry's cap;
#: the demo one level-0 instruction, at most 5 turns (search, click, options, buy: the solver's 5).
TEXT_PLAN = SuitePlan(max_turns="spec", demo_levels=1, demo_per_level=1, demo_max_turns=5)


def register_envs() -> None:
    """Register the web-shopping envs and ``agentgym webshop`` (idempotent)."""
    registry.register_command("webshop", "agentgym.cli.webshop_cmd:webshop_app")
    registry.register(
        "webshop/shop-text-v0",
        "agentgym.environments.webshop.text_env:ShopTextEnv",
        max_turns=MAX_TURNS,
        description="WebShop text mode: search, click and buy in a generated shop (WebShop reward).",
        extras=("web",),
        suites=("webshop/instructions@v1",),
        suite_plan=TEXT_PLAN,
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
