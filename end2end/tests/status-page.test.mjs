// The walking skeleton, end to end: the server renders the page, the browser hydrates it,
// and a click calls a server function that reads the database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launchBrowser, openPage, screenshot, seriousAccessibilityViolations } from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the status page is rendered on the server, with the bundle linked', async () => {
  const response = await fetch(`${baseUrl}/`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /Deployment status/);
  assert.match(html, /\/pkg\/portal\.js/);
  assert.match(html, /\/pkg\/portal_bg\.wasm/);
  assert.match(html, /\/pkg\/portal\.css/);
});

test('the bundle is served compressed', async () => {
  const response = await fetch(`${baseUrl}/pkg/portal_bg.wasm`, { headers: { 'accept-encoding': 'br, gzip' } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-encoding') ?? '', /br|gzip/);
  assert.equal(response.headers.get('content-type'), 'application/wasm');
});

test('after hydration the button reads the database through a server function', async () => {
  const page = await openPage(browser);
  await page.goto(`${baseUrl}/`, { waitUntil: 'networkidle' });
  await screenshot(page, 'status-page-before-check');
  assert.equal(await page.textContent('#status-result'), 'Not checked yet.');

  await page.click('#check-database');

  await page.waitForSelector('#schema-version', { timeout: 10_000 });
  assert.equal(await page.textContent('#schema-version'), '1');
  assert.equal(await page.textContent('#tenant-count'), '0');
  assert.match(await page.textContent('#status-result'), /Connected\s*to SQLite/);
  await screenshot(page, 'status-page-after-check');
  assert.deepEqual(page.errors, [], 'the page logged errors');
  await page.close();
});

test('Tailwind styles are applied', async () => {
  const page = await openPage(browser);
  await page.goto(`${baseUrl}/`);
  const background = await page.$eval('#check-database', (button) => getComputedStyle(button).backgroundColor);
  assert.notEqual(background, 'rgba(0, 0, 0, 0)', 'the button has no background colour: the stylesheet did not apply');
  await page.close();
});

test('the status page has no serious or critical accessibility violations', async () => {
  const page = await openPage(browser);
  await page.goto(`${baseUrl}/`, { waitUntil: 'networkidle' });
  await page.click('#check-database');
  await page.waitForSelector('#schema-version');
  assert.deepEqual(await seriousAccessibilityViolations(page), []);
  await page.close();
});

test('an unknown address shows the not-found page with status 404', async () => {
  const response = await fetch(`${baseUrl}/no/such/page`);
  assert.equal(response.status, 404);
  const page = await openPage(browser);
  await page.goto(`${baseUrl}/no/such/page`);
  assert.equal(await page.textContent('h1'), 'Page not found');
  await screenshot(page, 'not-found');
  await page.close();
});
