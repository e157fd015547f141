"""Accessibility audits of dashboard pages with axe-core, the pinned npm package `.ci/setup browser` installs here.

axe's source goes into the page through `page.evaluate`, which Chromium runs over the DevTools protocol and does not
hold to the page's Content-Security-Policy. So the audited page keeps the dashboard's real, strict CSP (no
`bypass_csp` context, no inline `<script>` that the CSP would block), and the audit sees exactly what a person gets.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

HERE = Path(__file__).parent
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
LOCK = HERE / "package-lock.json"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
SHOWN_TARGETS = 5
# Violations, and the "needs review" results axe could not decide, each node with whether it is text in a chart.
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, elementRef: true,
                                            resultTypes: ["violations", "incomplete"] });
  const found = (rules, undecided) => rules.map((rule) => ({
    rule: rule.id, impact: rule.impact || "", help: rule.help, help_url: rule.helpUrl, undecided: undecided,
    targets: rule.nodes.map((node) => node.target.map(String).join(" ")),
    why: rule.nodes.map((node) => [...node.any, ...node.all, ...node.none].map((check) => check.message).join("; ")),
    in_chart: rule.nodes.map((node) => node.element instanceof SVGTextElement && !!node.element.closest("svg.chart")),
  }));
  return found(results.violations, false).concat(found(results.incomplete, true));
}"""
# Elements that end past the viewport's right edge and are not inside a scrolling box, as short CSS paths.
WIDER_THAN_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth;
  const path = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  const scrolls = (el) => { for (let up = el.parentElement; up; up = up.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX)) return true; } return false; };
  return [...document.body.querySelectorAll("*")]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5 && el.getClientRects().length && !scrolls(el))
    .map((el) => path(el) + " ends at " + Math.round(el.getBoundingClientRect().right) + "px of " + width);
}"""
# axe cannot measure the contrast of a chart's short SVG labels ("too short to determine"): they are filled with
# --text (#1a1a1a) on the white page, 17:1. Every other undecided result fails the audit until a person decides it.
REVIEWED_IN_CHARTS = frozenset({"color-contrast"})


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks, with the elements that break it (as CSS selectors)."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]
    undecided: bool = False
    why: str = ""

    def describe(self) -> str:
        shown = ", ".join(self.targets[:SHOWN_TARGETS])
        more = f" and {len(self.targets) - SHOWN_TARGETS} more" if len(self.targets) > SHOWN_TARGETS else ""
        kind = ", needs review: axe could not decide" if self.undecided else ""
        why = f"\n    first: {self.why}" if self.why else ""
        return f"  {self.rule} ({self.impact}{kind}): {self.help} [{self.help_url}]\n    on {shown}{more}{why}"


def pinned_version() -> str:
    """The axe-core version package-lock.json pins."""
    return str(json.loads(LOCK.read_text())["packages"]["node_modules/axe-core"]["version"])


@cache
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: install the pinned axe-core with `bash .ci/setup services browser`")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def audit(page: Page) -> list[Violation]:
    """Every WCAG 2.0/2.1 A and AA rule the page as it is now breaks, or may break and has not been reviewed."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    version = page.evaluate("axe.version")
    assert version == pinned_version(), f"axe-core {version} is installed, the lock pins {pinned_version()}: " \
                                        "run `bash .ci/setup services browser`"
    violations = []
    for found in page.evaluate(RUN_AXE, list(WCAG_TAGS)):
        reviewed = found["undecided"] and found["rule"] in REVIEWED_IN_CHARTS
        kept = [(target, why) for target, why, in_chart in zip(found["targets"], found["why"], found["in_chart"],
                                                                strict=True) if not (reviewed and in_chart)]
        if kept:
            violations.append(Violation(rule=found["rule"], impact=found["impact"], help=found["help"],
                                        help_url=found["help_url"], targets=tuple(target for target, _ in kept),
                                        undecided=found["undecided"], why=kept[0][1]))
    return violations


def overflowing(page: Page) -> list[str]:
    """The elements whose right edge runs past the viewport, outermost first (WCAG 1.4.10, reflow). Content cut off
    there is also where axe cannot determine a background, so a page whose width depends on data (a token, a hash)
    fails axe only on some runs: this check fails it on every run."""
    return list(page.evaluate(WIDER_THAN_VIEWPORT))


def assert_accessible(page: Page, name: str) -> None:
    """No WCAG A/AA violation and no unreviewed undecided result on the page; the message names each rule, its
    impact, help and the first few elements."""
    wide = overflowing(page)
    assert not wide, f"{name} ({page.url}) is wider than the viewport: " + ", ".join(wide[:SHOWN_TARGETS])
    violations = audit(page)
    assert not violations, f"{name} ({page.url}) breaks {len(violations)} accessibility rule(s):\n" + \
        "\n".join(violation.describe() for violation in violations)
