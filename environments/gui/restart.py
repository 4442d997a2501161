"""In-page episode restarts for MiniWoB++ pages: a new episode without reloading the document.

A reload (a new document, scripts parsed and run again, images decoded) is most of a reset's cost.
MiniWoB's own ``core.startEpisodeReal()`` starts a new episode inside the loaded page, but what an
episode leaves behind (pending timers, focus, URL fragment, element ids, widget state its
``genProblem`` does not rebuild) could then leak into the next one. So a pooled page is restarted in
place only when all of these hold, else it is reloaded as before:

- the task is in :data:`INPAGE_TASKS`: pages on which, after a random episode on one seed, an in-page
  restart on another seed was checked to give byte-identical observations, rewards and follow-up
  steps to a freshly loaded page on that seed (``python -m agentgym.environments.gui.restart_audit``
  regenerates the list; ``tests/gui/test_restart.py`` checks every registered id), for the
  ``miniwob`` version :data:`AUDITED_MINIWOB` (another version always reloads);
- the page left no timer pending after it loaded (it would fire in every fresh episode, once here);
- no timer of the last episode is pending (an animation or a delayed handler mid-flight), other than
  the page's own episode timers, which ``core.startEpisodeReal()`` replaces;
- what the body holds outside the task's ``#wrap`` (widget popups: a date picker, a menu, a dialog)
  is as it was when the page had loaded.

The restart itself moves the pointer to (0, 0), blurs the focused element and moves the Tab order's
starting point back to the start of the page, clears the selection, storage, the URL fragment, the
scroll position and the agent's element ids, resets the episode counters of MiniWoB's (hidden) reward
display and puts the paused clock back at the epoch, so the page is where a fresh load leaves it;
the seed and ``core.startEpisodeReal()`` follow as usual.
"""

from __future__ import annotations

from importlib import metadata

#: The ``miniwob`` release the list below was audited on.
AUDITED_MINIWOB = "1.1.0"

#: Init script (after the fake clock's and INIT_SCRIPT): tracks pending timers and what the body holds
#: outside the task, so a restart can tell whether the page is quiet. ``mark()`` runs once it has loaded.
TIMER_TRACKER = """
(() => {
  const w = window;
  const setT = w.setTimeout, setI = w.setInterval, clearT = w.clearTimeout, clearI = w.clearInterval;
  const live = new Set();
  let loadPending = -1;
  w.setTimeout = function (fn, ms, ...args) {
    if (typeof fn !== 'function') {
      const raw = setT.call(w, fn, ms, ...args);
      live.add(raw);  // a string timer is never seen to fire: it keeps the page from restarting
      return raw;
    }
    let id = null;
    id = setT.call(w, function (...a) { live.delete(id); return fn.apply(this, a); }, ms, ...args);
    live.add(id);
    return id;
  };
  w.setInterval = function (...a) { const id = setI.call(w, ...a); live.add(id); return id; };
  w.clearTimeout = function (id) { live.delete(id); return clearT.call(w, id); };
  w.clearInterval = function (id) { live.delete(id); return clearI.call(w, id); };
  // what sits outside the task's #wrap (widget popups are appended to the body), minus the
  // agent's element ids and the page's own episode furniture
  const OWN = new Set(['wrap', 'reward-display', 'click-canvas', 'sync-task-cover']);
  const skeleton = () => Array.from(document.body.children)
    .filter((el) => !OWN.has(el.id) && !/^(SCRIPT|STYLE)$/.test(el.tagName))
    .map((el) => el.outerHTML.replace(/ data-(agid|tampered)="[^"]*"/g, '')).join('');
  let loadSkeleton = null;
  Object.defineProperty(w, '__agTimers', {value: {
    mark() { loadPending = live.size; loadSkeleton = skeleton(); return loadPending; },
    quiet(allowed) {
      if (loadPending !== 0 || skeleton() !== loadSkeleton) return false;
      for (const id of live) if (!allowed.includes(id)) return false;
      return true;
    },
  }});
})();
"""

#: ``(epochMs) -> bool``: makes the loaded page like a freshly loaded one, the paused fake clock back
#: at ``epochMs``, or returns false (then reload).
RESTART_IN_PAGE = """
(epochMs) => {
  if (typeof core === 'undefined' || typeof genProblem !== 'function' || !window.__agTimers) return false;
  if (!window.__agTimers.quiet([core.EP_TIMER, core.CD_TIMER])) return false;
  const active = document.activeElement;
  if (active && active !== document.body && active.blur) active.blur();
  // Tab starts from the last focused or clicked node; a focused node that is removed leaves the
  // starting point where it was: at the start of the body, where a fresh document's Tab starts
  const probe = document.createElement('span');
  probe.tabIndex = -1;
  document.body.insertBefore(probe, document.body.firstChild);
  probe.focus({preventScroll: true});
  probe.remove();
  const sel = window.getSelection();
  if (sel) sel.removeAllRanges();
  try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}
  const url = location.href.split('#')[0];
  if (url !== location.href) history.replaceState(null, '', url);
  window.scrollTo(0, 0);
  for (const el of Array.from(document.querySelectorAll('[data-agid]'))) el.removeAttribute('data-agid');
  window.__agNext = 1;
  WOB_EPISODE_ID = 0;
  core.wob_scores = [];
  core.wob_latest = '-';
  for (const id of ['reward-last', 'reward-avg']) {
    const el = document.getElementById(id);
    if (el) { el.removeAttribute('style'); el.textContent = '-'; }
  }
  const count = document.getElementById('episode-id');
  if (count) count.textContent = '0';
  globalThis.__pwClock.controller.setSystemTime(epochMs);
  return true;
}
"""

#: MiniWoB++ pages audited restart-safe (see the module doc): the list printed by
#: ``python -m agentgym.environments.gui.restart_audit --pairs 4``: 90 of the 116 pages the action space
#: can play. The others leaked state in the audit (a textarea or colour value genProblem does not
#: reset...), or never restarted in place there (a timer always pending at the end of an episode; the
#: dialog of click-dialog* appended to the body), so listing them would only cost a failed check.
INPAGE_TASKS: frozenset[str] = frozenset((
    "ascending-numbers", "bisect-angle", "button-delay", "buy-ticket", "choose-date",
    "choose-date-easy", "choose-date-medium", "choose-date-nodelay", "choose-list", "circle-center",
    "click-button", "click-button-sequence", "click-checkboxes", "click-checkboxes-large",
    "click-checkboxes-soft", "click-checkboxes-transfer", "click-collapsible",
    "click-collapsible-2-nodelay", "click-collapsible-nodelay", "click-color", "click-link",
    "click-option", "click-scroll-list", "click-shades", "click-shape", "click-tab", "click-tab-2",
    "click-tab-2-easy", "click-tab-2-hard", "click-tab-2-medium", "click-test", "click-test-2",
    "click-test-transfer", "click-widget", "copy-paste", "count-shape", "count-sides", "daily-calendar",
    "email-inbox", "email-inbox-delete", "email-inbox-forward", "email-inbox-forward-nl",
    "email-inbox-forward-nl-turk", "email-inbox-important", "email-inbox-nl-turk",
    "email-inbox-noscroll", "email-inbox-reply", "email-inbox-star-reply", "enter-date",
    "enter-password", "enter-text", "enter-text-2", "enter-text-dynamic", "enter-time", "find-greatest",
    "find-midpoint", "find-word", "focus-text", "focus-text-2", "form-sequence-2", "generate-number",
    "grid-coordinate", "guess-number", "hot-cold", "identify-shape", "login-user", "login-user-popup",
    "multi-layouts", "multi-orderings", "navigate-tree", "number-checkboxes", "odd-or-even",
    "order-food", "phone-book", "read-table", "read-table-2", "right-angle", "search-engine",
    "sign-agreement", "simple-algebra", "simple-arithmetic", "social-media", "social-media-all",
    "social-media-some", "text-editor", "text-transform", "tic-tac-toe", "unicode-test", "use-spinner",
    "visual-addition",
))  # fmt: skip


def miniwob_version() -> str | None:
    """The installed ``miniwob`` release (None when it is not installed)."""
    try:
        return metadata.version("miniwob")
    except metadata.PackageNotFoundError:
        return None


def restart_in_page_allowed(task: str) -> bool:
    """True when ``task`` was audited restart-safe on the installed ``miniwob`` release."""
    return task in INPAGE_TASKS and miniwob_version() == AUDITED_MINIWOB
