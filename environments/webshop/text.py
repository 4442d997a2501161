"""The text rendering of a shop page (WebShop's text mode): content plus its clickable elements.

Clickable elements are shown in square brackets where they sit on the page, and listed again at
the end, so an agent always knows what ``click[...]`` accepts.
"""

from __future__ import annotations

from agentgym.environments.webshop.engine import DONE, ITEM, RESULTS, SEARCH, TAB, PageView


def _button(label: str) -> str:
    return f"[{label}]"


def render_text(view: PageView, instruction: str) -> str:
    """The text observation of ``view`` for an episode with ``instruction``."""
    loc = view.location
    lines = [f"Instruction: {instruction}"]
    if loc.kind == SEARCH:
        lines.append("[Search]  (type search[your query])")
    elif loc.kind == RESULTS:
        lines.append(_button("Back to Search"))
        lines.append(f"Page {loc.page} (Total results: {view.total}) for {loc.query!r}")
        nav = [c.label for c in view.clickables if c.role == "link" and c.label != "back to search"]
        lines.extend(_button(label) for label in nav)
        if not view.results:
            lines.append("No products match your search.")
        for product in view.results:
            lines.append(f"{_button(product['asin'])}\n{product['title']}\n${product['price']:.2f}")
    elif loc.kind in (ITEM, TAB) and view.product is not None:
        product = view.product
        lines += [_button("Back to Search"), _button("< Prev")]
        if loc.kind == TAB:
            lines.append(f"{loc.tab.title()}:")
            content = view.tab_content
            if loc.tab == "reviews":
                lines += [f"- {r['author']} ({r['stars']}/5): {r['text']}" for r in content]
            elif loc.tab == "features":
                lines += [f"- {f}" for f in content]
            else:
                lines.append(str(content))
        else:
            chosen = dict(loc.options)
            for group, values in view.option_groups.items():
                shown = " ".join(
                    _button(v) + (" (selected)" if chosen.get(group) == v else "") for v in values
                )
                lines.append(f"{group}: {shown}")
            lines += [
                product["title"],
                f"Price: ${product['price']:.2f}",
                f"Rating: {product['rating']:.1f} ({product['n_reviews']} ratings)",
                "[Description] [Features] [Reviews]",
                "[Buy Now]",
            ]
    elif loc.kind == DONE and view.product is not None:
        lines.append(f"Thank you for shopping with us! You bought {view.product['title']}.")
    labels = [c.label for c in view.clickables]
    actions = (["search[<your query>]"] if view.has_search_bar else []) + [f"click[{x}]" for x in labels]
    if actions:
        lines.append("Available actions: " + ", ".join(actions))
    return "\n".join(lines)
