"""Page-side JavaScript: the simplified DOM with element ids, element boxes, scrolling and select.

Every element shown to the agent gets a ``data-agid`` attribute the first time it is seen; the id
stays with the element for the rest of the episode, so ``click(12)`` means the same element on
every step. Ids count up in document order from 1 (deterministic for a given page and actions).
"""

from __future__ import annotations

#: Runs before any page script (after the fake clock's): seeds ``Math.random`` (mulberry32, fixed
#: seed) so scripts that draw numbers while loading behave the same in every context (pages reseed it
#: later), and puts ``performance.now`` and animation frames on the fake clock (16 ms frames), so
#: d3/jQuery animations advance only with the clock and land on the same frames on every run.
INIT_SCRIPT = """
(() => {
  let a = 0x2545F491;
  Math.random = function () {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const origin = Date.now();
  const now = () => Date.now() - origin;
  try { Object.defineProperty(performance, 'now', {value: now, configurable: true}); } catch (e) {}
  window.requestAnimationFrame = (cb) => setTimeout(() => cb(now()), 16);
  window.cancelAnimationFrame = (id) => clearTimeout(id);
})();
"""

#: Loads and decodes every image the page's stylesheets and <img> tags name, so later paints (an icon
#: appearing when a dialog opens) never race an image load; resolves when all are in (or failed).
#: File pages cannot read their stylesheets' rules, so their envs pass the image URLs as ``extra``.
PRELOAD_IMAGES = """
async (extra) => {
  const urls = new Set(extra || []);
  for (const sheet of Array.from(document.styleSheets)) {
    let rules;
    try { rules = sheet.cssRules; } catch (e) { continue; }
    for (const rule of Array.from(rules || [])) {
      const text = rule.cssText || '';
      for (const m of text.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
        if (!m[1].startsWith('data:')) urls.add(new URL(m[1], sheet.href || document.baseURI).href);
      }
    }
  }
  for (const img of Array.from(document.images)) if (img.src) urls.add(img.src);
  await Promise.all(Array.from(urls).slice(0, 200).map((u) => {
    const img = new Image();
    img.src = u;
    return img.decode().catch(() => null);
  }));
  if (document.fonts) await document.fonts.ready;
  return urls.size;
}
"""

#: Returns ``{"text": str, "boxes": {id: [x, y, w, h]}, "count": int}`` for the visible page.
SIMPLIFIED_DOM = """
(opts) => {
  const skip = new Set(opts.skipIds || []);
  const maxNodes = opts.maxNodes || 300;
  if (window.__agNext === undefined) window.__agNext = 1;
  const lines = [], boxes = {};
  const INTERACTIVE = /^(a|button|input|select|textarea|label|option|summary)$/;
  const SHAPES = /^(circle|rect|ellipse|polygon|path|line|text|polyline)$/;
  const clip = (s, n) => s.length > n ? s.slice(0, n - 3) + '...' : s;
  const ownText = (el) => {
    let t = '';
    for (const c of el.childNodes) if (c.nodeType === 3) t += c.data;
    return t.replace(/\\s+/g, ' ').trim();
  };
  function describe(el, tag, text) {
    let d = tag;
    if (el.id && el.id.length <= 24) d += '#' + el.id;
    if (tag === 'input') {
      const type = (el.type || 'text').toLowerCase();
      d += ' type=' + type;
      if (type === 'checkbox' || type === 'radio') d += el.checked ? ' checked' : ' unchecked';
      else if (el.value) d += ' value=' + JSON.stringify(clip(el.value, 80));
      if (el.placeholder) d += ' placeholder=' + JSON.stringify(clip(el.placeholder, 40));
    } else if (tag === 'textarea') {
      d += ' value=' + JSON.stringify(clip(el.value || '', 120));
    } else if (tag === 'select') {
      const opts = Array.from(el.options).map((o) => o.text.trim());
      d += ' options=' + JSON.stringify(opts.slice(0, 30)) + ' selected=' + JSON.stringify(
        el.selectedIndex >= 0 ? el.options[el.selectedIndex].text.trim() : '');
    } else if (SHAPES.test(tag)) {
      const fill = el.getAttribute('fill');
      if (fill) d += ' fill=' + fill;
    }
    if (text) d += ' ' + JSON.stringify(clip(text, 120));
    if (document.activeElement === el && tag !== 'body') d += ' focused';
    return d;
  }
  function walk(el, depth) {
    if (lines.length >= maxNodes || (el.id && skip.has(el.id))) return;
    const tag = el.tagName.toLowerCase();
    if (/^(script|style|head|meta|link|noscript|title|br|canvas)$/.test(tag)) return;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return;
    const r = el.getBoundingClientRect();
    const kids = Array.from(el.children);
    const text = tag === 'select' ? '' : ownText(el);
    const shown = r.width > 0 && r.height > 0 && tag !== 'option' && (
      text || INTERACTIVE.test(tag) || SHAPES.test(tag) || el.hasAttribute('onclick') ||
      el.hasAttribute('role') || el.hasAttribute('tabindex') || kids.length === 0);
    let inner = depth;
    if (shown && tag !== 'body' && tag !== 'svg') {
      if (!el.dataset.agid) el.dataset.agid = String(window.__agNext++);
      const id = el.dataset.agid;
      boxes[id] = [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
      lines.push('  '.repeat(depth) + '[' + id + '] ' + describe(el, tag, text));
      inner = depth + 1;
    }
    if (tag === 'select') return;
    for (const k of kids) walk(k, inner);
  }
  walk(document.body, 0);
  if (lines.length >= maxNodes) lines.push('... (page text cut at ' + maxNodes + ' elements)');
  return {text: lines.join('\\n'), boxes: boxes, count: lines.length};
}
"""

#: ``(id) -> [cx, cy] | null``: scrolls the element into view and returns its centre.
ELEMENT_CENTER = """
(id) => {
  const el = document.querySelector('[data-agid="' + id + '"]');
  if (!el) return null;
  if (el.scrollIntoViewIfNeeded) el.scrollIntoViewIfNeeded(); else el.scrollIntoView({block: 'nearest'});
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return null;
  return [r.left + r.width / 2, r.top + r.height / 2];
}
"""

#: ``([x, y, dx, dy])``: scrolls the innermost scrollable element under (x, y), else the window.
SCROLL_AT = """
([x, y, dx, dy]) => {
  let el = document.elementFromPoint(x, y);
  while (el && el !== document.body && el !== document.documentElement) {
    const s = getComputedStyle(el);
    const canY = /(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight;
    const canX = /(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth;
    if ((dy && canY) || (dx && canX)) {
      el.scrollBy({left: dx, top: dy, behavior: 'instant'});
      return 'element';
    }
    el = el.parentElement;
  }
  window.scrollBy({left: dx, top: dy, behavior: 'instant'});
  return 'window';
}
"""

#: ``([id, option]) -> str``: picks the option whose text (or value) matches; returns an error or ''.
SELECT_OPTION = """
([id, option]) => {
  const el = document.querySelector('[data-agid="' + id + '"]');
  if (!el) return 'no element with id ' + id;
  const tag = el.tagName.toLowerCase();
  if (tag !== 'select') return 'element ' + id + ' is a ' + tag + ', not a select';
  const want = option.trim();
  const opts = Array.from(el.options);
  let found = opts.find((o) => o.text.trim() === want) || opts.find((o) => o.value === want);
  const names = JSON.stringify(opts.map((o) => o.text.trim()));
  if (!found) return 'no option ' + JSON.stringify(want) + '; options are ' + names;
  el.value = found.value;
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
  return '';
}
"""
