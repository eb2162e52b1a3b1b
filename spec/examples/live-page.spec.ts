// examples/http-service.ts's live page in a real headless Chromium (Debian's `chromium`, driven
// by playwright-core, which never downloads a browser here): a NOTIFY shows up on the page, and
// keeps showing up after the pool listener's backend is terminated and the listener reconnects.
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { lastValueFrom } from 'rxjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createPool, type Pool } from '../../lib';
import { startHttpService } from '../../examples/http-service';
import { eventually } from '../helpers/connections';
import { superuserConfig, superuserPsql } from '../helpers/test-servers';

const applicationName = 'rxpg-live-page-example';

let pool: Pool;
let server: ReturnType<typeof startHttpService>;
let browser: Browser;
let page: Page;
let base: string;

beforeAll(async () => {
  // A long heartbeat keeps the listener's last query its LISTEN, which is how the spec finds it.
  pool = createPool({ ...superuserConfig(), applicationName }, { max: 2, listener: { heartbeatInterval: 60_000 } });
  server = startHttpService(pool, 0);
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Tests run as root, where Chromium refuses its sandbox.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  await pool?.end();
});

/** The pid of the pool listener's backend once its LISTEN has completed (idle after it), other than `previous`. */
async function listenerBackend(previous?: number): Promise<number> {
  let pid = 0;
  await eventually(async () => {
    const found = await superuserPsql(
      `SELECT pid FROM pg_stat_activity WHERE application_name = '${applicationName}' AND query ILIKE 'LISTEN%' AND state = 'idle'` +
        (previous === undefined ? '' : ` AND pid <> ${previous}`),
    );
    pid = Number(found.trim().split('\n')[0]);
    return pid > 0;
  }, 8000);
  return pid;
}

/** Resolves when the page's list has an item reading `text`. */
async function onPage(text: string): Promise<void> {
  await page.getByText(text, { exact: true }).waitFor({ timeout: 5000 });
}

describe('the live page example', () => {
  it('shows a NOTIFY on the page, and again after the listener backend is terminated', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-state="open"]', { timeout: 5000 });
    const firstListener = await listenerBackend();

    await lastValueFrom(pool.notify('jobs', 'live page: job 1'));
    await onPage('live page: job 1');

    expect(await superuserPsql(`SELECT pg_terminate_backend(${firstListener})`)).toContain('t');
    const secondListener = await listenerBackend(firstListener);
    expect(secondListener).not.toBe(firstListener);

    await lastValueFrom(pool.notify('jobs', 'live page: job 2'));
    await onPage('live page: job 2');
    // The same EventSource carried both: the server-side stream survived the listener's loss.
    // (Other specs may NOTIFY jobs in the same database meanwhile: only this spec's items count.)
    const items = await page.locator('#jobs li').allTextContents();
    expect(items.filter((item) => item.startsWith('live page: '))).toEqual(['live page: job 1', 'live page: job 2']);
    expect(await page.getAttribute('body', 'data-state')).toBe('open');
  }, 20_000);
});
