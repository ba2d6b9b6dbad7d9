"""axe-core (vendored) run inside a Playwright page, plus the phone-page checks axe does not make:
no sideways scroll at 200 % zoom, tap targets of at least 44×44 px, no visible text under 16 px."""

from __future__ import annotations

import functools
from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"critical", "serious"}
MIN_TARGET = 44
MIN_FONT = 16


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """The critical and serious WCAG 2.1 AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol: the site's CSP (script-src 'self') forbids a script tag
        page.evaluate(f"() => {{ {_axe_source()}\n}}")
    result = page.evaluate("opts => axe.run(document, opts)", {"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {', '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)


def assert_axe_clean(page) -> None:
    """0 critical and 0 serious axe-core violations (WCAG 2.1 A + AA)."""
    violations = axe_violations(page)
    assert not violations, f"{page.url}: axe-core found\n{describe(violations)}"


# Buttons, nav links, switches and whole radio/checkbox rows. A radio or checkbox is tapped through
# itself and its labels, so its target is the box around them both. Links inside text may stay inline.
TARGETS = "button, .btn, .nav-link, .navbar-toggler, .form-select, input[type=radio], input[type=checkbox]"
_SMALL_TARGETS_JS = """([min, selector]) => {
  const small = [];
  const shown = r => r.width > 0 && r.height > 0;
  for (const el of document.querySelectorAll(selector)) {
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || !shown(el.getBoundingClientRect())) continue;
    const parts = [el, ...(el.matches('input') ? el.labels : [])]
      .map(e => e.getBoundingClientRect()).filter(shown);
    const left = Math.min(...parts.map(r => r.left)), right = Math.max(...parts.map(r => r.right));
    const top = Math.min(...parts.map(r => r.top)), bottom = Math.max(...parts.map(r => r.bottom));
    const [w, h] = [right - left, bottom - top];
    if (w < min - 0.5 || h < min - 0.5) {
      const text = (el.innerText || (el.labels && el.labels[0] && el.labels[0].innerText) || el.name || '');
      small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} `
        + `"${text.trim().slice(0, 30)}" ${Math.round(w)}×${Math.round(h)}`);
    }
  }
  return small;
}"""


def small_tap_targets(page) -> list[str]:
    return page.evaluate(_SMALL_TARGETS_JS, [MIN_TARGET, TARGETS])


# Every element that directly holds visible text (not only whitespace) and its computed font size.
_SMALL_TEXT_JS = """min => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('script, style, noscript, template, .visually-hidden, .visually-hidden-focusable'))
      continue;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || s.display === 'none') continue;
    const size = parseFloat(s.fontSize);
    if (size < min - 0.01)
      small.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} `
        + `"${node.textContent.trim().slice(0, 30)}" ${size}px`);
  }
  return small;
}"""


def small_text(page) -> list[str]:
    return page.evaluate(_SMALL_TEXT_JS, MIN_FONT)


def scroll_width_at_double_zoom(page) -> tuple[int, int]:
    """(scrollWidth, viewport width) with the page laid out as a 375 px phone at 200 % zoom: a
    187 px wide CSS viewport, which is what the browser lays out at that zoom."""
    size = page.viewport_size
    page.set_viewport_size({"width": 187, "height": 406})
    try:
        page.wait_for_timeout(50)
        return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    finally:
        page.set_viewport_size(size)
