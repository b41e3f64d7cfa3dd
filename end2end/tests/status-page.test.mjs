// The walking skeleton, end to end: the server renders the pages, the browser hydrates
// them, the operator signs in, and a click calls a server function that reads the database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  baseUrl,
  launchBrowser,
  openPage,
  operatorEmail,
  screenshot,
  seriousAccessibilityViolations,
  submitSignIn,
} from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// The bundle's directory is named by its content hash (pkg/version.txt, written by the
// build): `/pkg/{version}/portal.js`.
async function bundleDirectory() {
  const html = await (await fetch(`${baseUrl}/sign-in`)).text();
  const linked = html.match(/\/pkg\/([0-9a-f]{16})\/portal\.js/);
  assert.ok(linked, 'the bundle is linked under a versioned directory');
  return `/pkg/${linked[1]}`;
}

test('the sign-in page is rendered on the server, with the versioned bundle linked', async () => {
  const response = await fetch(`${baseUrl}/sign-in`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /Sign in/);
  const pkg = await bundleDirectory();
  for (const file of ['portal.js', 'portal_bg.wasm', 'portal.css']) assert.ok(html.includes(`${pkg}/${file}`), file);
});

test('the bundle is served compressed at build time and cached for good', async () => {
  const pkg = await bundleDirectory();
  for (const [encoding, expected] of [['br', 'br'], ['gzip', 'gzip'], ['br, gzip', 'br'], ['identity', null]]) {
    const response = await fetch(`${baseUrl}${pkg}/portal_bg.wasm`, { headers: { 'accept-encoding': encoding } });
    assert.equal(response.status, 200, encoding);
    assert.equal(response.headers.get('content-encoding'), expected, encoding);
    assert.equal(response.headers.get('content-type'), 'application/wasm');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = await response.arrayBuffer();
    assert.ok(body.byteLength > 1000, `${encoding}: ${body.byteLength} bytes`);
  }
  // Another version is not this bundle.
  assert.equal((await fetch(`${baseUrl}/pkg/0000000000000000/portal.js`)).status, 404);
});

test('a signed-out visitor is sent to the sign-in page', async () => {
  const page = await openPage(browser);
  await page.goto(`${baseUrl}/`);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await screenshot(page, 'sign-in');
  assert.deepEqual(await seriousAccessibilityViolations(page), []);
  await page.close();
});

test('a wrong password is refused with a readable message', async () => {
  const page = await openPage(browser);
  // Another account than the operator's, whose sign-in attempts are counted (see support.mjs).
  await submitSignIn(page, 'definitely not the password', 'nobody@e2e.example');
  await page.waitForSelector('#sign-in-error [role=alert]', { timeout: 10_000 });
  assert.match(await page.textContent('#sign-in-error'), /^The email or the password is not right./);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await screenshot(page, 'sign-in-refused');
  await page.close();
});

test('after signing in, the button reads the database through a server function', async () => {
  const page = await openPage(browser);
  await submitSignIn(page);
  // Operators land on their tenants; the status page is one click away.
  await page.waitForURL(`${baseUrl}/tenants`, { timeout: 10_000 });
  await page.click('nav >> text=Status');
  await page.waitForSelector('#check-database', { timeout: 10_000 });
  assert.equal(await page.textContent('#signed-in-as'), operatorEmail);
  await page.waitForLoadState('networkidle');
  assert.equal(await page.textContent('#status-result'), 'Not checked yet.');

  await page.click('#check-database');

  await page.waitForSelector('#schema-version', { timeout: 10_000 });
  assert.match(await page.textContent('#schema-version'), /^[1-9][0-9]*$/);
  // Other test files create tenants in the same deployment: the count must match the list.
  const counted = Number(await page.textContent('#tenant-count'));
  const listed = await page.evaluate(async () => {
    const response = await fetch('/api/list_tenants', { method: 'POST', headers: { accept: 'application/json' } });
    return (await response.json()).length;
  });
  assert.equal(counted, listed);
  assert.match(await page.textContent('#status-result'), /Connected\s*to SQLite/);
  await screenshot(page, 'status-page-after-check');
  assert.deepEqual(await seriousAccessibilityViolations(page), []);
  const background = await page.$eval('#check-database', (button) => getComputedStyle(button).backgroundColor);
  assert.notEqual(background, 'rgba(0, 0, 0, 0)', 'the button has no background colour: the stylesheet did not apply');
  assert.deepEqual(page.errors.filter((e) => !e.startsWith('401 ')), [], 'the page logged errors');

  await page.click('#sign-out');
  await page.waitForURL(`${baseUrl}/sign-in`, { timeout: 10_000 });
  await page.goto(`${baseUrl}/`);
  assert.equal(new URL(page.url()).pathname, '/sign-in', 'signed out, the start page is closed again');
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
