// Automated accessibility checks of a page in the browser tests: axe-core (Deque's engine, the one
// Lighthouse and the browsers' devtools run), injected into the page as it is and run over the document.
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  /** CSS selectors of the offending elements (the first few) */
  targets: string[];
}

/**
 * The WCAG 2.x A/AA violations axe finds on the page as it is now. The caller asserts on the serious and
 * critical ones (`blocking`); the rest are for the log.
 */
export async function axeViolations(p: Page): Promise<AxeViolation[]> {
  if (!(await p.evaluate('typeof window.axe !== "undefined"'))) await p.addScriptTag({ path: AXE });
  // a string: runs in the page, where `axe` is the injected engine
  return (await p.evaluate(`axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      resultTypes: ['violations'],
    }).then((r) => r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    })))`)) as AxeViolation[];
}

export const blocking = (vs: readonly AxeViolation[]): AxeViolation[] =>
  vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
