"""Scripted solvers for a handful of MiniWoB++ tasks (tests, the demo, the ``oracle`` agent).

Each solver is a page-side function that reads the live page (instruction and elements) and
returns the next action in the text form (``click(12)``, ``click(40, 95)``, ``type("x")``...). It
only reads the page: acting goes through the env's ``step`` like any agent's reply. Clicks name the element
id when the element carries one from the last observation, else its centre in pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgym.core.errors import EnvError

if TYPE_CHECKING:
    from agentgym.environments.gui.miniwob import MiniWoBEnv

_PRELUDE = """
const Q = core.getUtterance();
const $$ = (s) => Array.from(document.querySelectorAll(s));
const txt = (el) => el.textContent.replace(/\\s+/g, ' ').trim();
const hits = (el, x, y) => {
  const top = document.elementFromPoint(x, y);
  return !!top && el.contains(top);
};
const click = (el) => {
  // the centre unless something covers it (buttons placed at random can overlap), else a visible point
  const r = el.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const at = (x, y) => 'click(' + Math.round(x) + ', ' + Math.round(y) + ')';
  if (hits(el, cx, cy)) return el.dataset.agid ? 'click(' + el.dataset.agid + ')' : at(cx, cy);
  for (let fy = 0.1; fy < 1; fy += 0.2) for (let fx = 0.1; fx < 1; fx += 0.1) {
    const x = Math.round(r.left + fx * r.width), y = Math.round(r.top + fy * r.height);
    if (hits(el, x, y)) return at(x, y);
  }
  return at(cx, cy);
};
const quote = (s) => JSON.stringify(s);
const fillAll = (pairs, submit) => {
  for (const [el, want] of pairs) {
    if (el.value === want) continue;
    if (document.activeElement !== el) return click(el);
    const all = el.value.length > 0 && el.selectionStart === 0 && el.selectionEnd === el.value.length;
    if (el.value && !all) return 'press("Control+a")';
    return 'type(' + quote(want) + ')';
  }
  return click(submit);
};
"""

#: Task name -> body of the page-side solver (has the prelude's helpers; returns the action text).
ORACLES: dict[str, str] = {
    "click-test": "return click(document.getElementById('subbtn'));",
    "click-test-2": "return click(document.getElementById('subbtn'));",
    "click-button-sequence": """
      return click(document.getElementById(buttonsPushed.length ? 'subbtn2' : 'subbtn'));
    """,
    "click-button": """
      const want = Q.match(/"(.*)"/)[1];
      return click($$('#area button').find((b) => b.textContent === want));
    """,
    "click-link": """
      const want = Q.match(/"(.*)"/)[1];
      return click($$('#area .alink').find((s) => s.textContent === want));
    """,
    "click-dialog": "return click(document.querySelector('button.ui-dialog-titlebar-close'));",
    "click-widget": """
      const want = Q.match(/"(.*)"/)[1];
      const inputs = $$('#area .widget [data-type]');
      return click(inputs.find((el) => el.getAttribute('data-type') === want));
    """,
    "click-tab": """
      const n = Q.match(/#(\\d)/)[1];
      return click(document.querySelector('#area ul a[href="#tabs-' + n + '"]'));
    """,
    "focus-text": "return click(document.getElementById('tt'));",
    "focus-text-2": """
      const pos = ['1st', '2nd', '3rd'].findIndex((p) => Q.includes(p));
      return click(document.getElementById('tt' + (pos + 1)));
    """,
    "click-checkboxes": """
      const m = Q.match(/^Select (.*) and click Submit\\.$/);
      const want = m[1] === 'nothing' ? [] : m[1].split(', ');
      for (const label of $$('#boxes label')) {
        const box = label.querySelector('input');
        if (box.checked !== want.includes(txt(label))) return click(box);
      }
      return click(document.getElementById('subbtn'));
    """,
    "click-option": """
      const want = Q.match(/^Select (.*) and click Submit\\.$/)[1];
      const label = $$('#boxes label').find((l) => txt(l) === want);
      const radio = label.querySelector('input');
      return radio.checked ? click(document.getElementById('subbtn')) : click(radio);
    """,
    "enter-text": """
      const want = Q.match(/"(.*)"/)[1];
      return fillAll([[document.getElementById('tt'), want]], document.getElementById('subbtn'));
    """,
    "enter-password": """
      const want = Q.match(/"(.*)"/)[1];
      const pairs = [[document.getElementById('password'), want], [document.getElementById('verify'), want]];
      return fillAll(pairs, document.getElementById('subbtn'));
    """,
    "login-user": """
      const m = Q.match(/username "(.*)" and the password "(.*)"/);
      const byId = (id) => document.getElementById(id);
      const pairs = [[byId('username'), m[1]], [byId('password'), m[2]]];
      return fillAll(pairs, document.getElementById('subbtn'));
    """,
    "choose-list": """
      const want = Q.match(/^Select (.*) from the list and click Submit\\.$/)[1];
      const sel = document.getElementById('options');
      const chosen = sel.options[sel.selectedIndex].textContent;
      if (chosen !== want) return 'select(' + sel.dataset.agid + ', ' + quote(want) + ')';
      return click($$('#area button')[0]);
    """,
}


def oracle_script(task: str) -> str:
    """The page-side solver of ``task`` as a function expression."""
    if task not in ORACLES:
        raise EnvError(f"no scripted solver for MiniWoB task {task!r}; solvers: {sorted(ORACLES)}")
    return "() => {" + _PRELUDE + ORACLES[task] + "}"


def oracle_action(env: MiniWoBEnv) -> str:
    """The next action of the scripted solver for the env's current page."""
    script = oracle_script(env.task_name)

    async def ask() -> Any:
        return await env.page.evaluate(script)

    action = env.run(ask())
    if not isinstance(action, str):
        raise EnvError(f"the {env.task_name} solver returned {action!r}")
    return action
