import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
let source: string | undefined;

/** One axe finding, flattened for a failure message. */
export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** The CSS selectors of the offending elements (at most a few), with axe's one-line summary of the first. */
  targets: string[];
  summary: string;
}

/**
 * Runs axe-core on the page as it is now and returns the violations of impact `serious` or
 * `critical` (minor and moderate ones are not part of the bar in issue 16).
 *
 * axe is injected with `page.evaluate(source)`: Playwright evaluates through the DevTools protocol,
 * which the page's CSP (`script-src 'self'`, no inline) does not govern, whereas `addScriptTag`
 * would add an inline <script> the CSP refuses. So the CSP stays on for the whole walk and a page's
 * own violations still reach the console. axe itself needs no eval.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  source ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated in the page as text: the tests' TypeScript has no DOM types.
  const loaded = await page.evaluate<boolean>("typeof window.axe === 'object'");
  if (!loaded) await page.evaluate(source);
  return page.evaluate<AxeViolation[]>(`(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.map(String).join(' ')).concat(v.nodes.length > 5 ? ['… and ' + (v.nodes.length - 5) + ' more'] : []),
        summary: ((v.nodes[0] && v.nodes[0].failureSummary) || '').replace(/\\s+/g, ' ').slice(0, 240),
      }));
  })()`);
}

/**
 * The outermost elements that stick out past the right edge of the viewport (what makes a phone
 * scroll sideways), as short selectors; elements inside a box that scrolls on its own (a
 * `.table-scroll`, a <pre>) do not count, since the page itself does not widen.
 */
export async function overflowingElements(page: Page): Promise<string[]> {
  // Text, not a function: the tests' TypeScript has no DOM types, and tsx would wrap named functions
  // written here in a `__name()` helper the page lacks.
  return page.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    const clips = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + [...e.classList].slice(0, 2).map((c) => '.' + c).join('');
    // Inside a box that scrolls or clips on its own? An absolutely positioned element escapes every
    // such box below its containing block (the classic visually-hidden label in a scrolling table).
    const contained = (el) => {
      const style = getComputedStyle(el);
      if (style.position === 'fixed') return true;
      let a = style.position === 'absolute' ? el.offsetParent : el.parentElement;
      for (; a && a !== document.body && a !== document.documentElement; a = a.parentElement) if (clips(a)) return true;
      return false;
    };
    const sticksOut = (el) => el.getBoundingClientRect().right > width + 0.5 && !contained(el);
    const all = [...document.body.querySelectorAll('*')].filter(sticksOut);
    // Only the outermost culprits: an element whose parent sticks out too is part of its parent's story,
    // unless it is absolutely positioned (then it is a culprit of its own).
    const culprits = all.filter((el) => !(el.parentElement && all.includes(el.parentElement) && getComputedStyle(el).position !== 'absolute'));
    const described = culprits.slice(0, 6).map((el) => (el.parentElement ? name(el.parentElement) + ' > ' : '') + name(el) + ' (' + getComputedStyle(el).position + ', right edge at ' + Math.round(el.getBoundingClientRect().right) + ' px)');
    if (!described.length) {
      // Text wider than its box (a long word) widens the page without any element doing so.
      const wide = [...document.body.querySelectorAll('*')].filter((el) => !contained(el) && !clips(el) && el.getBoundingClientRect().left + el.scrollWidth > width + 0.5 && el.scrollWidth > el.clientWidth + 1);
      return wide.slice(-3).map((el) => 'text in ' + name(el) + ' (scrollWidth ' + el.scrollWidth + ' px)');
    }
    return described;
  })()`);
}
