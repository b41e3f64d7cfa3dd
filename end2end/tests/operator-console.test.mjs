// The operator console in a browser: create a tenant, add a directory for an identity
// provider, and receive its SCIM endpoint and a token shown once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { baseUrl, launchBrowser, openPage, screenshot, seriousAccessibilityViolations, submitSignIn } from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function signedInPage() {
  const page = await openPage(browser);
  await submitSignIn(page);
  await page.waitForSelector('#signed-in-as', { timeout: 10_000 });
  return page;
}

test('an operator creates a tenant and connects an Okta directory', async () => {
  const page = await signedInPage();
  await page.click('nav >> text=Tenants');
  await page.waitForSelector('#create-tenant');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(await seriousAccessibilityViolations(page), []);

  // The name in addresses follows the display name until the operator types one.
  await page.fill('#tenant-display-name', 'Acme Corporation');
  assert.equal(await page.inputValue('#tenant-slug'), 'acme-corporation');
  await page.fill('#tenant-slug', 'acme');
  await page.fill('#tenant-display-name', 'Acme Corporation ');
  assert.equal(await page.inputValue('#tenant-slug'), 'acme', 'a typed name stays');
  await page.fill('#tenant-display-name', 'Acme Corporation');
  await page.click('#create-tenant');

  await page.waitForURL(`${baseUrl}/tenants/acme`, { timeout: 10_000 });
  await page.waitForSelector('#tenant-name');
  assert.equal(await page.textContent('#tenant-name'), 'Acme Corporation');
  assert.match(await page.textContent('#no-directories'), /No identity provider is connected yet/);

  await page.selectOption('#directory-idp', 'okta');
  await page.click('#add-directory');
  await page.waitForSelector('#new-token', { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  const baseUrlShown = await page.inputValue('#new-scim-base-url');
  assert.match(token, /^scim_[A-Za-z0-9_-]{43}$/);
  assert.match(baseUrlShown, /\/scim\/v2\/[0-9a-f-]{36}$/);
  await page.waitForSelector('#directory-list');
  assert.match(await page.textContent('#directory-list'), /Okta/);
  await screenshot(page, 'tenant-with-new-directory');
  assert.deepEqual(await seriousAccessibilityViolations(page), []);

  // Shown once: a fresh load of the page lists the directory without its token.
  await page.reload({ waitUntil: 'networkidle' });
  assert.equal(await page.$('#new-token'), null);
  assert.doesNotMatch(await page.content(), new RegExp(token));

  await page.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  const row = await page.textContent('#tenant-table');
  assert.match(row, /Acme Corporation/);
  await screenshot(page, 'tenants');
  assert.deepEqual(page.errors, [], 'the pages logged errors');
  await page.close();
});

test('a taken tenant name is refused with a readable message', async () => {
  const page = await signedInPage();
  await page.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  await page.fill('#tenant-slug', 'taken');
  await page.fill('#tenant-display-name', 'First');
  await page.click('#create-tenant');
  await page.waitForURL(`${baseUrl}/tenants/taken`, { timeout: 10_000 });

  await page.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  await page.fill('#tenant-slug', 'taken');
  await page.fill('#tenant-display-name', 'Second');
  await page.click('#create-tenant');

  await page.waitForSelector('#create-tenant-error [role=alert]', { timeout: 10_000 });
  assert.equal(await page.textContent('#create-tenant-error'), 'A tenant named "taken" already exists.');

  // A name that cannot be an address is refused in words, not with the browser's generic pattern message.
  await page.fill('#tenant-slug', 'Not Valid!');
  await page.click('#create-tenant');
  await page.waitForFunction(
    () => !document.querySelector('#create-tenant-error')?.textContent?.includes('already exists'),
    null,
    { timeout: 10_000 },
  );
  assert.match(await page.textContent('#create-tenant-error'), /lowercase|letters|digits|dash/i);
  await page.close();
});
