// The tokens page works before (and without) the portal's bundle: its list is rendered on
// the server and its forms are plain HTML forms, so issuing a token (shown once, sealed in
// the session across the redirect), a refusal, and revoking with a confirmation all work
// with the wasm held back for the whole visit. This is the shape every page takes on the
// way to islands (issue 21): only the parts that need the browser's help are hydrated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, launchBrowser, operatorApi, scim, screenshot,
  seriousAccessibilityViolations,
} from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the tokens page issues and revokes tokens without the bundle', async () => {
  await operatorApi('POST', '/api/v1/tenants', { slug: 'vance', display_name: 'Vance Refrigeration' });
  const link = (await operatorApi('POST', '/api/v1/tenants/vance/setup-links', {})).url;
  const page = await acceptSetupLink(browser, link, 'it@vance.example');
  const { scimBase } = await directoryWithToken(page);
  const tokensPage = `${baseUrl}/admin/directories/${scimBase.split('/').pop()}/tokens`;

  // From here on, every request for the bundle's wasm is held: never answered, never failed.
  const held = [];
  await page.route('**/*.wasm', (route) => { held.push(route.request().url()); });
  await page.goto(tokensPage, { waitUntil: 'load' });
  await page.waitForSelector('#token-table');

  // A new token: the page comes back with it, shown once.
  await page.fill('#token-label', 'Okta staging');
  await Promise.all([page.waitForURL(/\/tokens\?new_token=/, { timeout: 10_000 }), page.click('#create-token')]);
  const token = await page.inputValue('#issued-token');
  assert.match(token, /^scim_/);
  assert.ok(!page.url().includes(token), 'the address does not carry the token');
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 200);
  assert.match(await page.textContent('#token-table'), /Okta staging/);
  await screenshot(page, 'tokens-without-bundle-issued');
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of the new token');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#issued-token-gone');
  assert.equal(await page.$('#issued-token'), null, 'shown a second time');

  // A refusal comes back on the page in words.
  await page.goto(tokensPage, { waitUntil: 'load' });
  await page.fill('#token-label', 'x'.repeat(101));
  await Promise.all([page.waitForURL(/__err=/, { timeout: 10_000 }), page.click('#create-token')]);
  assert.match(await page.textContent('[role=alert]'), /Give the token a name of 1 to 100 characters/);

  // Revoking asks first, then the token is refused at once.
  const row = page.locator('#token-table tr', { hasText: 'Okta staging' });
  await Promise.all([page.waitForURL(/\?revoke=/, { timeout: 10_000 }), row.locator('.revoke-token').click()]);
  assert.match(await page.textContent('#revoke-question'), /^Revoke ‘Okta staging’\?$/);
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of the confirmation');
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 200, 'nothing revoked before confirming');
  await Promise.all([page.waitForURL(tokensPage, { timeout: 10_000 }), page.click('#confirm-revoke')]);
  assert.equal(await page.$('#revoke-confirmation'), null);
  assert.match(await page.locator('#token-table tr', { hasText: 'Okta staging' }).textContent(), /Revoked/);
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 401);

  assert.ok(held.length >= 5, `the bundle was asked for on each page: ${held.length}`);
  // The held requests are cut as each page is left; nothing else may fail.
  const errors = page.errors.filter((error) => !/^failed: .*\/portal_bg\.wasm$/.test(error));
  assert.deepEqual(errors, [], 'the console logged errors');
  await page.context().close();
});
