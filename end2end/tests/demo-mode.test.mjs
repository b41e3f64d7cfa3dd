// Demo mode as a newcomer meets it (`cargo xtask run --demo`): a server of its own, started
// with DEMO=true, whose demo tenant is provisioned by the simulated identity provider built
// into the server. Its admin signs in and the directory's dashboard is already full and
// keeps changing without a reload, a failed request among the changes; every page
// axe-clean. cargo xtask test starts that server and sets E2E_DEMO_URL and
// E2E_DEMO_ADMIN_PASSWORD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { expectAccessible, launchBrowser, openPage, screenshot } from '../support.mjs';

const demoUrl = process.env.E2E_DEMO_URL;
const password = process.env.E2E_DEMO_ADMIN_PASSWORD;

let browser;
before(async () => {
  assert.ok(demoUrl && password, 'E2E_DEMO_URL and E2E_DEMO_ADMIN_PASSWORD are not set');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the demo tenant has a live dashboard within a minute of the start', async () => {
  const page = await openPage(browser);
  await page.goto(`${demoUrl}/sign-in`, { waitUntil: 'networkidle' });
  await page.fill('#email', 'admin@demo.example');
  await page.fill('#password', password);
  await page.click('#sign-in');
  await page.waitForURL(`${demoUrl}/admin`, { timeout: 10_000 });
  // Setup is complete (the simulated provider's first provisioning): the home links to the dashboard.
  const directoryLink = page.locator('a[href^="/admin/directories/"]:not([href*="/setup/"])').first();
  await directoryLink.waitFor({ timeout: 10_000 });
  const streamOpen = page.waitForResponse((response) => response.url().includes('/requests/stream'), { timeout: 15_000 });
  await directoryLink.click();
  await page.waitForURL(/\/admin\/directories\/[0-9a-f-]{36}$/, { timeout: 10_000 });
  await streamOpen;

  // The company is there already (the activity shows only the newest requests, the trickle's).
  await page.waitForSelector('#users-table >> text=grace.hopper@demo.example', { timeout: 30_000 });
  await page.waitForSelector('#activity li', { timeout: 30_000 });
  const newest = () => page.evaluate(() => Number(document.querySelector('#activity li')?.dataset.seq ?? 0));
  const before = await newest();
  // The trickle goes on while the page stays open (the stream, not a reload): a newer
  // request comes to the top.
  await page.waitForFunction(
    (seq) => Number(document.querySelector('#activity li')?.dataset.seq ?? 0) > seq,
    before,
    { timeout: 30_000 },
  );
  // …and now and then a request fails, with its cause.
  const failure = page.locator('#activity li[data-ok="false"]').first();
  await failure.waitFor({ timeout: 60_000 });
  assert.match(await failure.textContent(), /Could not create user [a-z.-]+@demo\.example \(409/);
  await screenshot(page, 'demo-dashboard');
  await expectAccessible(page, 'the demo dashboard');
  assert.deepEqual(page.errors, [], 'the demo pages logged errors');
});
