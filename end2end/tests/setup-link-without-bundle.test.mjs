// The first page a customer admin ever sees, the setup link, is usable before the portal's
// bundle arrives: the server renders it whole and its form posts as a plain HTML form.
// Here the browser never gets the bundle (its wasm is held back for the whole visit): a
// refusal (two passwords that differ) comes back on the link's page in words, and then the
// account is created and the admin taken on to the wizard, all without the bundle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  adminPassword, baseUrl, launchBrowser, openPage, operatorApi, screenshot, seriousAccessibilityViolations,
} from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function eventually(condition, what) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the setup link page works before the bundle arrives', async () => {
  await operatorApi('POST', '/api/v1/tenants', { slug: 'dunder', display_name: 'Dunder Mifflin' });
  const link = (await operatorApi('POST', '/api/v1/tenants/dunder/setup-links', {})).url;
  const page = await openPage(browser);
  // Every request for the bundle's wasm is held: never answered, never failed.
  const held = [];
  await page.route('**/*.wasm', (route) => { held.push(route.request().url()); });

  await page.goto(link, { waitUntil: 'load' });
  await page.waitForSelector('#create-account');
  await eventually(() => held.length === 1, 'the page to ask for its bundle');
  // (Not `expectAccessible`: it waits for the network to go quiet, which the held request
  // never lets it.)
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility without the bundle');

  // Refused by the server: back on the link's page, the reason in words.
  await page.fill('#admin-email', 'michael@dunder.example');
  await page.fill('#admin-password', adminPassword);
  await page.fill('#admin-password-again', `${adminPassword} again`);
  await Promise.all([page.waitForURL(/__err=/, { timeout: 10_000 }), page.click('#create-account')]);
  assert.ok(page.url().startsWith(`${link}?`), page.url());
  assert.match(await page.textContent('#accept-error'), /The two passwords differ/);
  await screenshot(page, 'setup-link-without-bundle-refused');
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of the refusal');

  // Accepted: the account is made and the admin is on the wizard's first step.
  await page.fill('#admin-email', 'michael@dunder.example');
  await page.fill('#admin-password', adminPassword);
  await page.fill('#admin-password-again', adminPassword);
  await Promise.all([page.waitForURL(`${baseUrl}/admin/connect`, { timeout: 10_000 }), page.click('#create-account')]);
  await page.waitForSelector('#idp-okta');
  assert.ok(held.length >= 3, `the bundle was asked for on each page: ${held.length}`);
  // The held requests are cut as each page is left; nothing else may fail.
  const errors = page.errors.filter((error) => !/^failed: .*\/portal_bg\.wasm$/.test(error));
  assert.deepEqual(errors, [], 'the console logged errors');
  await page.context().close();
});
