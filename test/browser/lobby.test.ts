// The example app's lobby page, end to end: headless Chromium pages (each in a fresh browser context) meet
// through the real example server, cancel, widen, linger, and watch the live panel.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeBrowser, eventually, launchChromium, SCREENSHOTS, startExample, type ExampleServer } from './browser';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Waits that end in a server's or a page's answer; generous, since the machine may be busy. */
const WITHIN = { withinMs: 20_000 };

type Mode = 'duel' | 'party';

/** Who waits per event, oldest first, as the server's (redacted) /sync/stats lists them. */
type Waiting = Record<string, string[]>;

describeBrowser('the example lobby in a browser', () => {
  let server: ExampleServer | undefined;
  let removeBuild: (() => Promise<void>) | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  /** Uncaught errors of the test's pages: a page that throws fails its test even when its text looks right. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const started = await startExample();
    server = started.server;
    removeBuild = started.remove;
    browser = await launchChromium();
  }, 180_000);

  afterEach(async () => {
    // Closing a page drops its connections, so its requests leave the server; the next test starts with nobody waiting.
    for (const context of contexts.splice(0)) await context.close();
    if (server?.process.exitCode === null) await eventually('nobody waiting after the test', waiting, (w) => Object.keys(w).length === 0, WITHIN);
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      try {
        await server?.stop();
      } finally {
        await removeBuild?.();
      }
    }
  }, 60_000);

  function base(): string {
    if (server === undefined) throw new Error('the server starts in beforeAll');
    return server.url;
  }

  async function waiting(): Promise<Waiting> {
    const res = await fetch(`${base()}/sync/stats`);
    expect(res.status).toBe(200);
    const tree = (await res.json()) as Record<string, Record<string, Record<string, { created_at: string; params: Record<string, unknown> }>>>;
    const out: Waiting = {};
    for (const [event, byActor] of Object.entries(tree)) {
      const entries = Object.values(byActor).flatMap((byId) => Object.values(byId));
      // Redacted: the lobby's panel has no use for payloads, and they carry the players' game ids.
      for (const entry of entries) expect(entry.params).not.toHaveProperty('payload');
      entries.sort((a, b) => a.created_at.localeCompare(b.created_at));
      out[event] = entries.map((entry) => String(entry.params.actor));
    }
    return out;
  }

  /** Resolves once /sync/stats lists exactly `actors` (in arrival order) as waiting for `event`. */
  function waitingFor(event: string, actors: string[]): Promise<Waiting> {
    return eventually(`${actors.join(', ')} waiting for ${event}`, waiting, (w) => JSON.stringify(w[event] ?? []) === JSON.stringify(actors), WITHIN);
  }

  /** A page of the lobby in a browser context of its own (no cookies, storage or connections shared). */
  async function openLobby(query = '', viewport = DESKTOP): Promise<Page> {
    if (browser === undefined) throw new Error('the browser starts in beforeAll');
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
    await page.goto(`${base()}/${query}`);
    return page;
  }

  /** Fills the form and presses Find match; resolves with the game id the page proposes. */
  async function findMatch(page: Page, name: string, level: number, mode: Mode): Promise<string> {
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Level').fill(String(level));
    await page.getByLabel(mode === 'duel' ? 'Duel' : 'Party', { exact: true }).check();
    await page.getByRole('button', { name: 'Find match' }).click();
    return (await page.getByLabel('Proposed game', { exact: true }).textContent()) ?? '';
  }

  function matchRegion(page: Page) {
    return page.getByRole('region', { name: 'Match' });
  }

  /** The roster a page shows once its match formed: the game id and every member's line. */
  async function roster(page: Page): Promise<{ game: string; players: string[] }> {
    const region = matchRegion(page);
    await region.waitFor({ state: 'visible', timeout: WITHIN.withinMs });
    return {
      game: (await region.getByLabel('Game', { exact: true }).textContent()) ?? '',
      players: await region.getByRole('listitem').allTextContents(),
    };
  }

  function stage(page: Page): Promise<string> {
    return page.getByLabel('Stage', { exact: true }).textContent().then((text) => text ?? '');
  }

  function screenshot(page: Page, name: string): Promise<Buffer> {
    return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('serves the page, the client build, its own routes and its 404', async () => {
    const page = await fetch(`${base()}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const client = await fetch(`${base()}/netsync/client.mjs`);
    expect(client.status).toBe(200);
    expect(client.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(await client.text()).toContain('NetsyncClient');
    // Only the client's modules: not the server library, not the build's other files.
    for (const path of ['/netsync/index.mjs', '/netsync/client.d.mts', '/netsync/cli.js', '/netsync/chunk-nothere.mjs']) {
      const res = await fetch(`${base()}${path}`);
      expect([path, res.status, await res.json()]).toEqual([path, 404, { error: { code: 'not_found', message: `no route for GET ${path}` } }]);
    }
    const health = await fetch(`${base()}/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('builds the request as the lobby promises: level label, same level first, then ±2, then anyone', async () => {
    const page = await openLobby('?widen1=nonsense&widen2=20s&linger=300ms');
    // A string, so that it reaches the page as written: the test's compiler would turn import() into require().
    const built = (await page.evaluate(`(async () => {
      const m = await import('/matchmaking.js');
      const times = m.lobbyTimes(new URLSearchParams(location.search));
      return {
        times,
        swapped: m.lobbyTimes(new URLSearchParams('widen1=5s&widen2=1s')),
        low: m.requestFor({ name: 'Ann', level: 1, mode: 'party', game: 'g-1' }, times),
        high: m.requestFor({ name: 'Bob', level: 10, mode: 'duel', game: 'g-2' }, times),
      };
    })()`)) as Record<'times' | 'swapped' | 'low' | 'high', Record<string, unknown>>;
    expect(built.times).toEqual({ widen1: '10s', widen2: '20s', linger: '300ms' });
    expect(built.swapped).toEqual({ widen1: '10s', widen2: '30s', linger: '5s' });
    expect(built.low).toEqual({
      event: 'party',
      actor: 'Ann',
      labels: { level: '1' },
      payload: { name: 'Ann', level: 1, game: 'g-1' },
      selector: 'level=1',
      widen: [{ after: '10s', selector: 'level in (1,2,3)' }, { after: '20s', selector: '' }],
      mates: { min: 1, max: 3 },
      linger: '300ms',
    });
    expect(built.high).toMatchObject({ event: 'duel', mates: 1, selector: 'level=10', widen: [{ selector: 'level in (8,9,10)' }, { selector: '' }] });
    expect(built.high).not.toHaveProperty('linger');
  });

  it('lets two players of the same level meet in a duel: each page shows the other, and the first one\'s game', async () => {
    const ann = await openLobby();
    const bob = await openLobby('', PHONE);
    const annGame = await findMatch(ann, 'Ann', 4, 'duel');
    await waitingFor('duel', ['Ann']);
    await screenshot(ann, 'duel-1-ann-waiting');
    const bobGame = await findMatch(bob, 'Bob', 4, 'duel');
    expect(annGame).toMatch(/^g-[0-9a-f]{8}$/);
    expect(bobGame).not.toBe(annGame);

    const [seenByAnn, seenByBob] = await Promise.all([roster(ann), roster(bob)]);
    await screenshot(ann, 'duel-2-ann-matched');
    await screenshot(bob, 'duel-3-bob-matched-phone');
    expect(seenByAnn).toEqual({ game: annGame, players: ['Ann · level 4 · same level', 'Bob · level 4 · same level'] });
    expect(seenByBob).toEqual(seenByAnn);
    await expect(ann.getByRole('status', { name: 'Lobby status' }).textContent()).resolves.toContain('Matched.');
  });

  it('withdraws a player who cancels: the server lists them no more', async () => {
    const cy = await openLobby();
    await findMatch(cy, 'Cy', 3, 'duel');
    await waitingFor('duel', ['Cy']);
    await expect(cy.getByRole('button', { name: 'Find match' }).isDisabled()).resolves.toBe(true);
    await cy.getByRole('button', { name: 'Cancel' }).click();
    await waitingFor('duel', []);
    await expect(cy.getByRole('status', { name: 'Lobby status' }).textContent()).resolves.toContain('Cancelled.');
    await expect(cy.getByRole('button', { name: 'Find match' }).isEnabled()).resolves.toBe(true);
    await expect(matchRegion(cy).isVisible()).resolves.toBe(false);
    await screenshot(cy, 'cancel-1-cancelled');
  });

  it('forms a party of three once the linger window ends, and not before', async () => {
    // The window opens when the second player arrives; the third comes within it, a fourth never does.
    const query = '?linger=4s';
    const [dee, eve, fay] = await Promise.all([openLobby(query), openLobby(query, PHONE), openLobby(query)]);
    await expect((dee as Page).getByText('2–4 players, waits 4 s for more', { exact: true }).isVisible()).resolves.toBe(true);
    const deeGame = await findMatch(dee as Page, 'Dee', 6, 'party');
    await waitingFor('party', ['Dee']);
    await findMatch(eve as Page, 'Eve', 6, 'party');
    await waitingFor('party', ['Dee', 'Eve']);
    await findMatch(fay as Page, 'Fay', 6, 'party');
    // No page shows a roster yet, and afterwards the server still lists all three: the group had not formed.
    for (const page of [dee, eve, fay] as Page[]) await expect(matchRegion(page).isVisible()).resolves.toBe(false);
    await waitingFor('party', ['Dee', 'Eve', 'Fay']);
    await screenshot(dee as Page, 'party-1-lingering');

    const rosters = await Promise.all(([dee, eve, fay] as Page[]).map(roster));
    await screenshot(eve as Page, 'party-2-matched-phone');
    const party = { game: deeGame, players: ['Dee · level 6 · same level', 'Eve · level 6 · same level', 'Fay · level 6 · same level'] };
    expect(rosters).toEqual([party, party, party]);
  });

  it('widens the selector: a level 2 and a level 9 player still wait at ±2 and meet at "anyone"', async () => {
    const query = '?widen1=300ms&widen2=6s';
    const low = await openLobby(query);
    const high = await openLobby(query);
    const lowGame = await findMatch(low, 'Gus', 2, 'duel');
    await waitingFor('duel', ['Gus']);
    await findMatch(high, 'Hal', 9, 'duel');

    await eventually('both pages at stage ±2', () => Promise.all([stage(low), stage(high)]), (s) => s.every((name) => name === '±2'), WITHIN);
    for (const page of [low, high]) await expect(matchRegion(page).isVisible()).resolves.toBe(false);
    await waitingFor('duel', ['Gus', 'Hal']);
    // The page's clock starts before the server's: still ±2 here means the server had not widened further.
    await expect(stage(high)).resolves.toBe('±2');
    await screenshot(low, 'widen-1-plus-minus-2');

    const [seenByLow, seenByHigh] = await Promise.all([roster(low), roster(high)]);
    await screenshot(high, 'widen-2-matched');
    // The server's word: both had widened to "anyone" when they met.
    expect(seenByLow).toEqual({ game: lowGame, players: ['Gus · level 2 · anyone', 'Hal · level 9 · anyone'] });
    expect(seenByHigh).toEqual(seenByLow);
  });

  it('shows a waiting player in a fresh page\'s live panel, and drops them once they cancel', async () => {
    const ivy = await openLobby();
    await findMatch(ivy, 'Ivy', 7, 'party');
    await waitingFor('party', ['Ivy']);

    const onlooker = await openLobby('', PHONE);
    const panel = onlooker.getByRole('region', { name: 'Waiting now' });
    const partyList = () => panel.getByRole('list', { name: 'Waiting for a party' }).getByRole('listitem').allTextContents();
    await eventually('Ivy in the live panel', partyList, (items) => items.includes('Ivy · level 7 · same level'), WITHIN);
    await screenshot(onlooker, 'panel-1-ivy-waiting-phone');
    // Readable on a phone: nothing wider than the screen.
    const overflow = await onlooker.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);

    await ivy.getByRole('button', { name: 'Cancel' }).click();
    await eventually('Ivy gone from the live panel', partyList, (items) => !items.some((item) => item.startsWith('Ivy')), WITHIN);
  });

  // Last: it stops the server.
  it('stops gracefully on SIGTERM: a waiting page hears that the lobby is closing, and the server exits 0', async () => {
    const jay = await openLobby();
    await findMatch(jay, 'Jay', 5, 'duel');
    await waitingFor('duel', ['Jay']);
    const stopped = await server?.stop();
    expect(stopped).toEqual({ code: 0, signal: null });
    const status = jay.getByRole('status', { name: 'Lobby status' });
    await eventually('the closing notice', () => status.textContent(), (text) => text?.includes('The lobby is closing.') === true, WITHIN);
    await screenshot(jay, 'shutdown-1-closing');
  });
});
