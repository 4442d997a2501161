"""The shop as a web app (FastAPI + Jinja2): search, result pages, product pages with options and tabs, buy.

Every page is a :class:`~agentgym.environments.webshop.engine.Location` put in a URL; the pages and
their links come from the same :class:`ShopEngine` the text env uses. A visit to ``/`` opens a
session with an instruction (``/?goal=N`` picks instruction ``N`` of the held-out stream) kept in a
cookie, so URLs name only pages; ``/start/<sid>`` joins a session opened by code (the browser env).
Buying shows WebShop's reward and its breakdown, also served as JSON at ``/verdict``.

Run it with ``agentgym webshop serve --catalog 10000`` and open the printed address.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.webshop.engine import DONE, ITEM, RESULTS, SEARCH, TAB, TABS, Location, ShopEngine
from agentgym.environments.webshop.reward import purchase_verdict
from agentgym.environments.webshop.store import open_shop_data
from agentgym.tasks.splits import generate_split
from agentgym.tasks.webshop.instructions import InstructionGenerator

TEMPLATES = Path(__file__).parent / "templates"
MAX_SESSIONS = 10_000
GOAL_STREAM_SEED = 2026


@dataclass
class Session:
    """One shopper's visit: the task and, once bought, the verdict."""

    task: Task
    verdict: Verdict | None = None
    bought: Location | None = None


COOKIE = "shop_session"


def url_of(loc: Location) -> str:
    """The URL path of page ``loc``."""
    params: list[tuple[str, str]] = []
    if loc.query:
        params += [("q", loc.query), ("page", str(loc.page))]
    if loc.kind == RESULTS:
        return f"/results?{urlencode(params)}"
    if loc.kind in (ITEM, TAB, DONE):
        params += [("opt", f"{k}:{v}") for k, v in loc.options]
        if loc.kind == TAB:
            params.append(("tab", loc.tab))
        path = f"/item/{loc.asin}" if loc.kind != DONE else f"/buy/{loc.asin}"
        return f"{path}?{urlencode(params)}" if params else path
    return "/search"


def location_of(url: str) -> Location:
    """The page a shop URL names (the inverse of :func:`url_of`; unknown paths are the search page)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    q = " ".join(query.get("q", [""])[0].split())
    try:
        page = max(1, int(query.get("page", ["1"])[0]))
    except ValueError:
        page = 1
    segments = [s for s in parts.path.split("/") if s]
    if segments == ["results"]:
        return Location(RESULTS, query=q, page=page)
    if len(segments) == 2 and segments[0] in ("item", "buy"):
        tab = query.get("tab", [""])[0]
        tab = tab if tab in TABS else ""
        kind = DONE if segments[0] == "buy" else TAB if tab else ITEM
        opts = _options(query.get("opt", []))
        return Location(kind, query=q, page=page, asin=segments[1].upper(), options=opts, tab=tab)
    return Location(SEARCH)


def _options(opts: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = dict(o.split(":", 1) for o in opts if ":" in o)
    return tuple(sorted(pairs.items()))


class ShopServer:
    """Sessions and page rendering over one catalog (the FastAPI app is :meth:`app`)."""

    def __init__(self, catalog_size: int = 1000, catalog_seed: int = 0, n_attributes: int = 2) -> None:
        data = open_shop_data(catalog_size, catalog_seed)
        self.engine = ShopEngine(data)
        self.generator = InstructionGenerator(
            catalog_size=catalog_size,
            catalog_seed=catalog_seed,
            n_attributes=n_attributes,
            product_lookup=data.product,
        )
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._goals: list[Task] = []

    def goal(self, n: int) -> Task:
        """Instruction ``n`` of the held-out stream."""
        with self._lock:
            if n >= len(self._goals):
                more = generate_split(self.generator, GOAL_STREAM_SEED, n + 1, "heldout")
                self._goals = list(more)
            return self._goals[n]

    def open_session(self, task: Task) -> str:
        """Start a session for ``task``; returns its id (the browser joins it at ``/start/<sid>``)."""
        sid = secrets.token_hex(12)
        with self._lock:
            self.sessions[sid] = Session(task)
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
        return sid

    def buy(self, sid: str, loc: Location) -> Verdict:
        """Record the purchase at ``loc`` (a ``done`` location) and return its verdict (first buy counts)."""
        session = self.sessions[sid]
        if session.verdict is None:
            product, chosen = self.engine.purchase(loc)
            session.verdict = purchase_verdict(product, session.task.spec["goal"], chosen)
            session.bought = loc
        return session.verdict

    def app(self) -> FastAPI:
        """The FastAPI application."""
        templates = Jinja2Templates(directory=str(TEMPLATES))
        app = FastAPI(title="AgentGym WebShop", docs_url=None, redoc_url=None)
        app.state.shop = self

        def session(request: Request) -> tuple[str, Session]:
            sid = request.cookies.get(COOKIE, "")
            found = self.sessions.get(sid)
            if found is None:
                raise HTTPException(404, "no shopping session: open / to start one")
            return sid, found

        def page(request: Request, loc: Location) -> HTMLResponse:
            _, current = session(request)
            view = self.engine.view(loc)
            context = {
                "view": view,
                "loc": view.location,
                "links": {c.label: url_of(c.target) for c in view.clickables},
                "instruction": current.task.spec["instruction"],
                "verdict": current.verdict,
                "chosen": dict(view.location.options),
            }
            return templates.TemplateResponse(request, f"{view.location.kind}.html", context)

        def enter(sid: str) -> RedirectResponse:
            response = RedirectResponse("/search", status_code=303)
            response.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
            return response

        @app.get("/")
        def start(goal: int | None = Query(None, ge=0, le=100_000)) -> RedirectResponse:
            n = goal if goal is not None else len(self.sessions) % 1000
            return enter(self.open_session(self.goal(n)))

        @app.get("/start/{sid}")
        def join(sid: str) -> RedirectResponse:
            if sid not in self.sessions:
                raise HTTPException(404, "unknown session")
            return enter(sid)

        @app.get("/healthz")
        def healthz() -> dict[str, Any]:
            return {"ok": True, "catalog_size": self.engine.data.size}

        @app.get("/search", response_class=HTMLResponse)
        def search(request: Request, q: str = Query("", max_length=500)) -> Any:
            session(request)
            query = " ".join(q.split())
            if query:
                return RedirectResponse(url_of(Location(RESULTS, query=query)), status_code=303)
            return page(request, Location(SEARCH))

        @app.get("/results", response_class=HTMLResponse)
        def results(
            request: Request,
            q: str = Query("", max_length=500),
            page_: int = Query(1, alias="page", ge=1, le=1000),
        ) -> HTMLResponse:
            return page(request, Location(RESULTS, query=" ".join(q.split()), page=page_))

        @app.get("/item/{asin}", response_class=HTMLResponse)
        def item(
            request: Request,
            asin: str,
            q: str = Query("", max_length=500),
            page_: int = Query(1, alias="page", ge=1, le=1000),
            opt: list[str] = Query([], max_length=20),  # noqa: B008
            tab: str = Query("", max_length=20),
        ) -> HTMLResponse:
            tab = tab if tab in TABS else ""
            kind = TAB if tab else ITEM
            loc = Location(kind, query=q, page=page_, asin=asin.upper(), options=_options(opt), tab=tab)
            return page(request, loc)

        @app.post("/buy/{asin}", response_class=HTMLResponse)
        def buy(
            request: Request,
            asin: str,
            q: str = Query("", max_length=500),
            page_: int = Query(1, alias="page", ge=1, le=1000),
            opt: list[str] = Query([], max_length=20),  # noqa: B008
        ) -> HTMLResponse:
            sid, _ = session(request)
            loc = Location(DONE, query=q, page=page_, asin=asin.upper(), options=_options(opt))
            if self.engine.data.product_by_asin(loc.asin) is None:
                raise HTTPException(404, f"no product {asin}")
            self.buy(sid, loc)
            return page(request, loc)

        @app.get("/verdict")
        def verdict(request: Request) -> JSONResponse:
            found = session(request)[1].verdict
            return JSONResponse({"bought": found is not None, "verdict": found.to_dict() if found else None})

        return app
