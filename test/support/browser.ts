import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright cannot download browsers here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(process.cwd(), 'test-output', 'screenshots');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Flags that work as root in CI containers (see the environment notes); playwright adds a fresh user data dir.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A response the test provokes on purpose, e.g. a 400 from API validation. */
export interface ExpectedFailure {
  method: string;
  path: RegExp;
  status: number;
}

/**
 * Records everything that went wrong in a page: console errors (CSP violations included),
 * uncaught exceptions, failed requests and HTTP errors, except the ones the test expects.
 */
export function watchPage(page: Page) {
  const problems: string[] = [];
  const expected: ExpectedFailure[] = [];
  const expectedUrls = new Set<string>();
  const isExpected = (method: string, url: string, status: number) =>
    expected.some((e) => e.method === method && e.status === status && e.path.test(new URL(url).pathname));
  page.on('response', (response) => {
    if (response.status() < 400) return;
    const request = response.request();
    if (isExpected(request.method(), response.url(), response.status())) {
      expectedUrls.add(response.url());
      return;
    }
    problems.push(`HTTP ${response.status()} for ${request.method()} ${response.url()}`);
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText})`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    // Chromium logs every 4xx fetch as a console error; those we expect are not problems.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text) && expectedUrls.has(message.location().url)) return;
    if (message.type() === 'warning' && !/Content Security Policy|Trusted Type/i.test(text)) return;
    problems.push(`console ${message.type()}: ${text} (${message.location().url})`);
  });
  return {
    problems,
    expect(failure: ExpectedFailure) {
      expected.push(failure);
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const NAMED_ROLES = new Set(['textbox', 'searchbox', 'checkbox', 'combobox', 'button', 'spinbutton', 'radio', 'link', 'switch', 'slider', 'listbox', 'menuitem', 'tab', 'dialog']);

/**
 * Every interactive control the browser exposes to assistive technology has an accessible
 * name (from Chromium's accessibility tree, which sees into shadow roots). Returns offenders.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree') as { nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string }; backendDOMNodeId?: number }> };
    const bad: string[] = [];
    for (const node of nodes) {
      const role = node.role?.value ?? '';
      if (node.ignored || !NAMED_ROLES.has(role)) continue;
      if (!String(node.name?.value ?? '').trim()) {
        let html = '';
        if (node.backendDOMNodeId) {
          const { outerHTML } = await cdp.send('DOM.getOuterHTML', { backendNodeId: node.backendDOMNodeId }).catch(() => ({ outerHTML: '?' }));
          html = outerHTML.slice(0, 160);
        }
        bad.push(`${role}: ${html}`);
      }
    }
    return bad;
  } finally {
    await cdp.detach();
  }
}

/** The focused element, looking inside shadow roots: tag, id and text. */
export function focusedElement(page: Page): Promise<{ tag: string; id: string; text: string }> {
  return page.evaluate(() => {
    let active = document.activeElement as HTMLElement | null;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement as HTMLElement;
    return { tag: active?.tagName.toLowerCase() ?? '', id: active?.id ?? '', text: (active?.textContent ?? '').replace(/\s+/g, ' ').trim() };
  });
}

/** Whether the page scrolls sideways (it must not at phone widths). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
