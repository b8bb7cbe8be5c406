/**
 * The web dashboard (SPEC §6 `GET /`) in a real browser: Debian's headless Chromium driven by
 * playwright-core, against a real collector (`sessiongraph serve`) filled by `sessiongraph demo`.
 * Checks what a user does — overview charts and counts, filtering the sessions table, a failed
 * session's waterfall, the id search, the API-key prompt — with no error in the browser
 * console, and saves the screenshots the README shows (docs/screenshots/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCollector, type CollectorProcess } from '../helpers/cli.ts';
import { tempDir } from '../helpers/collector.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const READ = 'sgk-dash-read-7c1e9a3f5b2d4e6081a9c3e5f7b1d2a4';
const INGEST = 'sgk-dash-ingest-2b4d6f8a0c1e3a5b7d9f1e3c5a7b9d0f';
const BOTH = 'sgk-dash-both-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';
const WRONG = 'sgk-dash-wrong-0000111122223333444455556666777f';

// Like the server-mode tests: without the browser the file is skipped with a notice, except in
// CI (.ci/run installs Debian's chromium), where a missing browser must fail.
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI)
  console.warn(`dashboard tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

type Json = Record<string, any>;
interface Session {
  id: string;
  agent_name: string;
  session_status: string;
  error_count: number;
}

let plain: CollectorProcess;
let keyed: CollectorProcess;
let browser: Browser;

async function getJson(base: string, p: string, key?: string): Promise<Json> {
  const res = await fetch(`${base}${p}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  expect(res.status, `GET ${p}`).toBe(200);
  return (await res.json()) as Json;
}

async function stop(c: CollectorProcess | undefined): Promise<void> {
  if (!c) return;
  c.child.kill('SIGTERM');
  await c.exited;
}

/**
 * A page whose console errors and uncaught exceptions are collected. The browser itself logs
 * every HTTP error answer ("Failed to load resource: … 401"); a step that provokes one on
 * purpose (a wrong key, an id that does not exist) allows exactly that status on /api.
 */
async function openPage(
  context: BrowserContext,
): Promise<{ page: Page; problems: string[]; allowStatus: (status: number | null) => void }> {
  const page = await context.newPage();
  const problems: string[] = [];
  let allowed: number | null = null;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(m.text())?.[1];
    if (status && Number(status) === allowed && new URL(m.location().url || 'http://x/').pathname.startsWith('/api/'))
      return;
    problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return { page, problems, allowStatus: (s) => (allowed = s) };
}

const ready = (page: Page, name: string): Promise<unknown> =>
  page.waitForSelector(`main[data-ready="${name}"]`, { timeout: 15_000 });

describe.skipIf(!haveChromium && !process.env.CI)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    [plain, keyed] = await Promise.all([
      spawnCollector(['serve', '--port', '0', '--grpc-port', 'off', '--data-dir', tempDir()]),
      spawnCollector(['serve', '--port', '0', '--grpc-port', 'off', '--data-dir', tempDir()], {
        SESSIONGRAPH_API_KEYS: `${READ}=read,${INGEST}=ingest,${BOTH}=read+ingest`,
      }),
    ]);
    // Sessions over the last 20 days: all inside the overview's default 30-day range.
    const [demo, keyedDemo] = await Promise.all([
      runCli(['demo', '--url', plain.url, '--sessions', '60', '--seed', '7', '--days', '20']),
      runCli(['demo', '--url', keyed.url, '--api-key', BOTH, '--sessions', '8', '--seed', '11', '--days', '5']),
    ]);
    expect(demo.code, demo.output).toBe(0);
    expect(keyedDemo.code, keyedDemo.output).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([stop(plain), stop(keyed)]);
  });

  it('overview: charts with data points, failed and abandoned counts as the API counts them', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openPage(context);
    await page.goto(`${plain.url}/`);
    await ready(page, 'overview');
    for (const id of ['chart-cost', 'chart-tokens', 'chart-sessions', 'chart-error-rate']) {
      const chart = page.locator(`#${id}`);
      expect(Number(await chart.getAttribute('data-points')), id).toBeGreaterThan(0);
      expect(await chart.locator('.chart-plot canvas').count(), `${id} canvas`).toBe(1);
    }
    const failed = (await getJson(plain.url, '/api/sessions?status=failed&limit=500')).sessions.length;
    const abandoned = (await getJson(plain.url, '/api/sessions?status=abandoned&limit=500')).sessions.length;
    const all = (await getJson(plain.url, '/api/sessions?limit=500')).sessions.length;
    expect(failed).toBeGreaterThan(0);
    expect(abandoned).toBeGreaterThan(0);
    expect(await page.locator('#stat-failed').getAttribute('data-value')).toBe(String(failed));
    expect(await page.locator('#stat-abandoned').getAttribute('data-value')).toBe(String(abandoned));
    expect(await page.locator('#stat-sessions').getAttribute('data-value')).toBe(String(all));
    expect(await page.locator('#top-agents li').count()).toBeGreaterThan(1);

    // Loaded again (as a user comes back to it). How long that takes is printed, not asserted:
    // speed goals live in the bench (a timed assertion here failed under a parallel test file).
    await page.reload();
    await ready(page, 'overview');
    const loadMs = await page.evaluate(() => performance.now());
    console.log(`dashboard: overview drawn ${Math.round(loadMs)} ms after navigation start`);
    await page.screenshot({ path: path.join(SHOTS, 'overview.png') });

    // The agent filter goes into the URL and narrows the figures.
    const agentSessions = (await getJson(plain.url, '/api/sessions?agent=support-triage&limit=500')).sessions.length;
    await page.selectOption('#f-agent', 'support-triage');
    await page.waitForURL(/\?agent=support-triage$/);
    await ready(page, 'overview');
    expect(await page.locator('#stat-sessions').getAttribute('data-value')).toBe(String(agentSessions));
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);

  it('sessions: filtering by agent changes the rows and the URL; the URL reproduces the view; sorting', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openPage(context);
    await page.goto(`${plain.url}/sessions`);
    await ready(page, 'sessions');
    const agentsBefore = new Set(
      await page
        .locator('#sessions-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.agent)),
    );
    expect(agentsBefore.size).toBeGreaterThan(1);

    await page.selectOption('#f-agent', 'release-notes');
    await page.waitForURL((url) => url.pathname === '/sessions' && url.searchParams.get('agent') === 'release-notes');
    await ready(page, 'sessions');
    const expected = (await getJson(plain.url, '/api/sessions?agent=release-notes')).sessions as Session[];
    const rows = page.locator('#sessions-table tbody tr');
    expect(await rows.evaluateAll((r) => r.map((row) => (row as HTMLElement).dataset.sessionId))).toEqual(
      expected.map((s) => s.id),
    );
    expect(expected.length).toBeGreaterThan(0);

    // Shared as a link: the same view from the URL alone.
    await page.goto(`${plain.url}/sessions?agent=release-notes&status=completed`);
    await ready(page, 'sessions');
    expect(await page.locator('#f-agent').inputValue()).toBe('release-notes');
    expect(await page.locator('#f-status').inputValue()).toBe('completed');
    const statuses = await rows.evaluateAll((r) => r.map((row) => (row as HTMLElement).dataset.status));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['completed']));

    // Sort by cost on the page, most expensive first, remembered in the URL.
    await page.goto(`${plain.url}/sessions`);
    await ready(page, 'sessions');
    await page.locator('#sessions-table th', { hasText: 'Cost' }).locator('button').click();
    await expect.poll(() => page.locator('#sessions-table th[aria-sort="descending"]').textContent()).toContain('Cost');
    expect(new URL(page.url()).searchParams.get('sort')).toBe('cost');
    const costs = await rows.evaluateAll((r) =>
      r.map((row) => Number((row.querySelector('td:nth-child(5)')?.textContent ?? '').replace(/[^0-9.]/g, ''))),
    );
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('a failed session: waterfall rows with the errors marked, a span selected with Enter shows its details', async () => {
    const failed = (await getJson(plain.url, '/api/sessions?status=failed&limit=500')).sessions as Session[];
    const target = failed.find((s) => s.agent_name === 'roadmap-triage') ?? failed[0];
    expect(target).toBeDefined();
    const detail = await getJson(plain.url, `/api/sessions/${target!.id}`);
    const errors = (detail.transcript as Json[]).filter((e) => e.error);
    expect(errors.length).toBeGreaterThan(0);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openPage(context);
    await page.goto(`${plain.url}/sessions?status=failed`);
    await ready(page, 'sessions');
    await page.locator(`#sessions-table tr[data-session-id="${target!.id}"] a`).first().click(); // client-side navigation
    await ready(page, 'session');
    expect(new URL(page.url()).pathname).toBe(`/sessions/${target!.id}`);
    expect(await page.locator('.wf-row').count()).toBe(detail.transcript.length);
    const errorRows = page.locator('.wf-row.is-error');
    expect(await errorRows.evaluateAll((r) => r.map((row) => (row as HTMLElement).dataset.spanId))).toEqual(
      expect.arrayContaining(errors.map((e) => e.span_id)),
    );
    expect(await errorRows.count()).toBe(errors.length);
    for (const label of await errorRows.evaluateAll((r) => r.map((row) => row.getAttribute('aria-label') ?? '')))
      expect(label).toMatch(/error/);
    expect(await errorRows.first().textContent()).toContain('error');
    // Kinds are told apart by words, not colour alone.
    expect(await page.locator('.wf-row[data-kind="tool"] .kind').first().textContent()).toMatch(/Tool/);
    expect(await page.locator('.wf-row[data-kind="llm"] .kind').first().textContent()).toMatch(/LLM/);
    expect(await page.locator('.wf-row[data-kind="decision"]').count()).toBe(detail.decisions.length);

    const errorSpan = errors[0]!;
    await page.locator(`.wf-row[data-span-id="${errorSpan.span_id}"]`).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#span-detail[data-span-id="${errorSpan.span_id}"]`);
    expect(await page.locator('#span-detail').textContent()).toContain(errorSpan.status_message || 'Error');
    // Its raw attributes and events, read for the selected span.
    await page.waitForSelector('#span-detail .span-attrs[data-state="ready"]');
    const attrs = (await page.locator('#span-detail .span-attrs').textContent()) ?? '';
    expect(attrs).toContain('error.type');
    expect(attrs).toContain('exception');
    expect(await page.locator(`.wf-row[data-span-id="${errorSpan.span_id}"]`).getAttribute('aria-pressed')).toBe(
      'true',
    );
    await page.screenshot({ path: path.join(SHOTS, 'session-waterfall.png') });

    // A completed session whose tool call failed: that tool's row is the one marked.
    const completed = (await getJson(plain.url, '/api/sessions?status=completed&limit=500')).sessions as Session[];
    const withToolError = [];
    for (const s of completed.filter((c) => c.error_count > 0)) {
      const t = (await getJson(plain.url, `/api/sessions/${s.id}`)).transcript as Json[];
      const tool = t.find((e) => e.error && e.kind === 'tool');
      if (tool) withToolError.push({ id: s.id, span: tool.span_id as string });
    }
    expect(withToolError.length, 'the demo has a completed session with a failed tool call').toBeGreaterThan(0);
    await page.goto(`${plain.url}/sessions/${withToolError[0]!.id}`);
    await ready(page, 'session');
    const toolRow = page.locator(`.wf-row[data-span-id="${withToolError[0]!.span}"]`);
    expect(await toolRow.getAttribute('data-kind')).toBe('tool');
    expect(await toolRow.getAttribute('class')).toContain('is-error');
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('search: a decision id in upper case without dashes reaches the decision and its evidence; a trace id its session', async () => {
    const failed = (await getJson(plain.url, '/api/sessions?status=failed&limit=500')).sessions as Session[];
    let decisionId: string | undefined;
    for (const s of [
      ...failed,
      ...((await getJson(plain.url, '/api/sessions?agent=roadmap-triage&limit=500')).sessions as Session[]),
    ]) {
      decisionId = (await getJson(plain.url, `/api/sessions/${s.id}`)).decisions[0]?.id;
      if (decisionId) break;
    }
    expect(decisionId).toBeDefined();
    const decision = await getJson(plain.url, `/api/decisions/${decisionId}`);
    expect(decision.evidence.length).toBeGreaterThan(0);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems, allowStatus } = await openPage(context);
    await page.goto(`${plain.url}/agents`);
    await ready(page, 'agents');
    expect(await page.locator('#agents-table tbody tr').count()).toBeGreaterThan(1);
    // Sorting by cost: a click on the header sorts by it (the page may start there), another reverses it; the URL keeps it.
    const costHeader = page.locator('#agents-table th:has-text("Cost")');
    const costs = async (): Promise<number[]> =>
      (await page.locator('#agents-table tbody td[data-label="Cost"]').allTextContents()).map((t) =>
        Number(t.replace(/[$,]/g, '')),
      );
    for (let i = 0; i < 2 && (await costHeader.getAttribute('aria-sort')) !== 'descending'; i++)
      await costHeader.locator('button').click();
    expect(await costHeader.getAttribute('aria-sort')).toBe('descending');
    const down = await costs();
    expect(down).toEqual([...down].sort((a, b) => b - a));
    await costHeader.locator('button').click();
    expect(await costHeader.getAttribute('aria-sort')).toBe('ascending');
    expect(await costs()).toEqual([...down].sort((a, b) => a - b));
    expect(page.url()).toMatch(/sort=cost&dir=asc/);

    await page.fill('#search-input', decisionId!.replaceAll('-', '').toUpperCase());
    await page.press('#search-input', 'Enter');
    await page.waitForURL(`**/decisions/${decisionId}`);
    await ready(page, 'decision');
    expect(await page.locator('h1').textContent()).toBe(decision.decision.title);
    const items = page.locator('#evidence > li');
    expect(await items.count()).toBe(decision.evidence.length);
    expect(await items.evaluateAll((li) => li.map((e) => (e as HTMLElement).dataset.spanId))).toEqual(
      decision.evidence.map((e: Json) => e.span_id),
    );
    expect(await page.locator('main').textContent()).toContain(decision.decision.rationale);
    await page.screenshot({ path: path.join(SHOTS, 'decision.png') });

    // A trace id (32 hex digits) is its session's id.
    const session = decision.session as Json;
    await page.fill('#search-input', session.trace_id);
    await page.press('#search-input', 'Enter');
    await page.waitForURL(`**/sessions/${session.id}`);
    await ready(page, 'session');

    // Not an id, and an id of nothing: "nothing found" (the second is the API's 404, allowed here).
    await page.fill('#search-input', 'not-an-id');
    await page.press('#search-input', 'Enter');
    await expect.poll(() => page.locator('#search-status').textContent()).toMatch(/Nothing found/);
    allowStatus(404);
    await page.fill('#search-input', 'FFFFFFFF-0000-4000-8000-000000000000');
    await page.press('#search-input', 'Enter');
    await expect.poll(() => page.locator('#search-status').getAttribute('data-state')).toBe('none');
    expect(await page.locator('#search-status').textContent()).toMatch(
      /Nothing found.*ffffffff-0000-4000-8000-000000000000/,
    );
    expect(new URL(page.url()).pathname).toBe(`/sessions/${session.id}`);
    allowStatus(null);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('with API keys: the shell loads without one, the page asks, a wrong or read-less key is explained, the read key shows data and stays out of URLs', async () => {
    // The shell and its files are open; data still needs the read scope.
    const shell = await fetch(`${keyed.url}/sessions`);
    expect(shell.status).toBe(200);
    const html = await shell.text();
    expect(html).toContain('content="keys"');
    const asset = /\/ui\/[0-9a-f]+\/app\.js/.exec(html)?.[0];
    expect((await fetch(`${keyed.url}${asset}`)).status).toBe(200);
    for (const open of ['/', '/sessions', '/agents', '/sessions/anything', '/decisions/anything'])
      expect((await fetch(`${keyed.url}${open}`)).status, open).toBe(200);
    // Only those exact shapes are open: data, metrics and lookalike paths still need the read scope.
    for (const closed of [
      '/api/sessions',
      '/api/agents',
      '/metrics',
      '/sessions/a/b',
      '/decisions',
      '/agents/x',
      '/ui/a/b/c',
      '/ui',
      '/index.html',
    ]) {
      expect((await fetch(`${keyed.url}${closed}`)).status, closed).toBe(401);
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems, allowStatus } = await openPage(context);
    const urls: string[] = [];
    const apiCalls: Array<{ url: string; authorization: string | undefined }> = [];
    page.on('framenavigated', (f) => urls.push(f.url()));
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/'))
        apiCalls.push({ url: r.url(), authorization: r.headers().authorization });
      urls.push(r.url());
    });
    await page.goto(`${keyed.url}/`);
    await ready(page, 'key-form');
    expect(apiCalls).toEqual([]); // asked before any API call

    allowStatus(401);
    await page.fill('#api-key', WRONG);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-message[data-reason="invalid"]');
    expect(await page.locator('#key-message').textContent()).toMatch(/not valid/);

    allowStatus(403);
    await page.fill('#api-key', INGEST);
    await page.click('#key-form button[type="submit"]');
    await page.waitForSelector('#key-message[data-reason="forbidden"]');
    expect(await page.locator('#key-message').textContent()).toMatch(/lacks the read scope/);
    allowStatus(null);

    const calledBefore = apiCalls.length;
    await page.fill('#api-key', READ);
    await page.press('#api-key', 'Enter');
    await ready(page, 'overview');
    expect(Number(await page.locator('#stat-sessions').getAttribute('data-value'))).toBeGreaterThan(0);
    await page.click('nav.site-nav a[href="/sessions"]');
    await ready(page, 'sessions');
    expect(await page.locator('#sessions-table tbody tr').count()).toBeGreaterThan(0);
    const withKey = apiCalls.slice(calledBefore);
    expect(withKey.length).toBeGreaterThan(0);
    for (const call of withKey) expect(call.authorization, call.url).toBe(`Bearer ${READ}`);

    // The key is in this tab's sessionStorage, and in no URL, cookie or localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem('sessiongraph.apiKey'))).toBe(READ);
    expect(await page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).not.toContain(READ);
    for (const key of [READ, WRONG, INGEST]) for (const url of [...urls, page.url()]) expect(url).not.toContain(key);
    expect(await page.evaluate(() => document.body.innerHTML)).not.toContain(READ);

    // Forgetting it asks again.
    await page.click('#forget-key');
    await ready(page, 'key-form');
    expect(await page.evaluate(() => sessionStorage.getItem('sessiongraph.apiKey'))).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('phone width (375 px): no horizontal scrolling, the waterfall and tables fit', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const { page, problems } = await openPage(context);
    const failed = (await getJson(plain.url, '/api/sessions?status=failed&limit=1')).sessions as Session[];
    for (const [p, name] of [
      ['/', 'overview'],
      ['/sessions', 'sessions'],
      [`/sessions/${failed[0]!.id}`, 'session'],
      ['/agents', 'agents'],
    ] as const) {
      await page.goto(`${plain.url}${p}`);
      await ready(page, name);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${p} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
    }
    await page.goto(`${plain.url}/`);
    await ready(page, 'overview');
    await page.screenshot({ path: path.join(SHOTS, 'phone.png') });
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
