"""The shop's pages and moves, shared by the web server and the text env.

A :class:`Location` names a page (search, results, item, an item's tab, or the end of an episode);
:meth:`ShopEngine.view` renders a location into a :class:`PageView` whose clickable elements each
carry the location they lead to. The web app turns locations into URLs and views into HTML; the
text env keeps the current location and moves with WebShop's actions (``search[query]``,
``click[element]``). Both are therefore the same shop, page for page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from agentgym.environments.webshop.store import PAGE_SIZE, ShopData
from agentgym.tasks.webshop.catalog import options_of, reviews_of

SEARCH, RESULTS, ITEM, TAB, DONE = "search", "results", "item", "tab", "done"
TABS = ("description", "features", "reviews")
BACK_TO_SEARCH, NEXT, PREV, BUY = "back to search", "next >", "< prev", "buy now"
MAX_QUERY_CHARS = 500


class ShopActionError(ValueError):
    """An action the current page does not offer (the message says what it does offer)."""


@dataclass(frozen=True)
class Location:
    """A page of the shop: its kind and what selects it (query, results page, product, options, tab)."""

    kind: str = SEARCH
    query: str = ""
    page: int = 1
    asin: str = ""
    options: tuple[tuple[str, str], ...] = ()
    tab: str = ""

    def with_option(self, group: str, value: str) -> Location:
        """The same item page with ``group`` set to ``value``."""
        chosen = dict(self.options)
        chosen[group] = value
        return replace(self, options=tuple(sorted(chosen.items())))


@dataclass(frozen=True)
class Clickable:
    """A clickable element: its label (what ``click[...]`` names), where it leads, and its role."""

    label: str
    target: Location
    role: str = "link"  # link | product | option | tab | buy
    group: str = ""
    selected: bool = False


@dataclass
class PageView:
    """What a page shows: its location, content and clickable elements, in reading order."""

    location: Location
    clickables: list[Clickable] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    product: dict[str, Any] | None = None
    option_groups: dict[str, list[str]] = field(default_factory=dict)
    tab_content: Any = None
    has_search_bar: bool = False

    def find(self, label: str) -> Clickable | None:
        """The clickable whose label equals ``label`` (case and surrounding space ignored)."""
        wanted = " ".join(label.lower().split())
        for c in self.clickables:
            if c.label.lower() == wanted:
                return c
        return None


class ShopEngine:
    """Pages and transitions over one loaded catalog (stateless: every call names its location)."""

    def __init__(self, data: ShopData) -> None:
        self.data = data
        self._search_cache: dict[str, list[int]] = {}

    # ----- searching -------------------------------------------------------------------------------
    def results(self, query: str) -> list[int]:
        """The result indices of ``query`` (cached per engine)."""
        key = " ".join(query.lower().split())
        if key not in self._search_cache:
            if len(self._search_cache) > 256:
                self._search_cache.clear()
            self._search_cache[key] = self.data.search(key)
        return self._search_cache[key]

    # ----- views -----------------------------------------------------------------------------------
    def view(self, loc: Location) -> PageView:
        """Render ``loc`` into a page view (unknown products fall back to the search page)."""
        if loc.kind == RESULTS:
            return self._results_view(loc)
        if loc.kind in (ITEM, TAB, DONE):
            product = self.data.product_by_asin(loc.asin)
            if product is not None:
                if loc.kind == DONE:
                    return PageView(loc, product=product)
                return self._item_view(loc, product)
        return PageView(Location(SEARCH), has_search_bar=True)

    def _results_view(self, loc: Location) -> PageView:
        hits = self.results(loc.query)
        pages = max(1, (len(hits) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(loc.page, 1), pages)
        loc = replace(loc, page=page)
        view = PageView(loc, total=len(hits))
        view.clickables.append(Clickable(BACK_TO_SEARCH, Location(SEARCH)))
        if page > 1:
            view.clickables.append(Clickable(PREV, replace(loc, page=page - 1)))
        if page < pages:
            view.clickables.append(Clickable(NEXT, replace(loc, page=page + 1)))
        for idx in hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
            product = self.data.product(idx)
            view.results.append(product)
            target = Location(ITEM, query=loc.query, page=page, asin=product["asin"])
            view.clickables.append(Clickable(product["asin"].lower(), target, role="product"))
        return view

    def _item_view(self, loc: Location, product: dict[str, Any]) -> PageView:
        item = replace(loc, kind=ITEM, tab="")
        groups = options_of(product)
        view = PageView(loc, product=product, option_groups=groups)
        view.clickables.append(Clickable(BACK_TO_SEARCH, Location(SEARCH)))
        if loc.kind == TAB:
            view.clickables.append(Clickable(PREV, item))
            content: Any = {
                "description": product["description"],
                "features": list(product["features"]),
                "reviews": reviews_of(self.data.seed, product),
            }.get(loc.tab)
            view.tab_content = content
            return view
        back = Location(RESULTS, query=loc.query, page=loc.page) if loc.query else Location(SEARCH)
        view.clickables.append(Clickable(PREV, back))
        chosen = dict(loc.options)
        for group, values in groups.items():
            for value in values:
                target = item.with_option(group, value)
                view.clickables.append(
                    Clickable(value, target, role="option", group=group, selected=chosen.get(group) == value)
                )
        for tab in TABS:
            view.clickables.append(Clickable(tab, replace(item, kind=TAB, tab=tab), role="tab"))
        view.clickables.append(Clickable(BUY, replace(item, kind=DONE), role="buy"))
        return view

    # ----- moves -----------------------------------------------------------------------------------
    def search(self, loc: Location, query: str) -> Location:
        """The results page of ``query`` (only from a page with a search bar)."""
        if loc.kind != SEARCH:
            raise ShopActionError("there is no search bar on this page; click[back to search] first")
        query = " ".join(query.split())
        if not query:
            raise ShopActionError("the search query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise ShopActionError(f"the search query is longer than {MAX_QUERY_CHARS} characters")
        return Location(RESULTS, query=query, page=1)

    def click(self, loc: Location, label: str) -> Location:
        """Where clicking ``label`` on page ``loc`` leads."""
        view = self.view(loc)
        hit = view.find(label)
        if hit is None:
            offered = ", ".join(c.label for c in view.clickables) or "nothing"
            raise ShopActionError(f"{label.strip()[:80]!r} is not clickable here; clickable: {offered}")
        return hit.target

    def purchase(self, loc: Location) -> tuple[dict[str, Any], dict[str, str]]:
        """The product and chosen options of a finished (``done``) location."""
        product = self.data.product_by_asin(loc.asin)
        if loc.kind != DONE or product is None:
            raise ShopActionError("nothing was bought")
        return product, dict(loc.options)
