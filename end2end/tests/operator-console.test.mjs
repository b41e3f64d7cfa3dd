// The operator console in a browser: create a tenant, add a directory for an identity
// provider, and receive its SCIM endpoint and a token shown once; email a setup link to
// the customer's IT admin, who follows it from the mail the SMTP server received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  acceptSetupLink, baseUrl, expectAccessible, launchBrowser, openPage, screenshot, seriousAccessibilityViolations,
  signedInOperator,
} from '../support.mjs';

let browser;
// One sign-in for the file (the server throttles an account's sign-ins).
let operator;
before(async () => {
  browser = await launchBrowser();
  operator = await signedInOperator(browser);
});
after(async () => {
  await browser?.close();
});

// The messages the e2e server's SMTP server (aiosmtpd) accepted, one JSON line each.
function mailbox() {
  const path = process.env.E2E_MAILBOX;
  assert.ok(path, 'E2E_MAILBOX is not set (cargo xtask test starts an SMTP server and sets it)');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // Nothing received yet.
  }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

test('an operator creates a tenant and connects an Okta directory', async () => {
  const page = operator;
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
});

test('a taken tenant name is refused with a readable message', async () => {
  const page = operator;
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
});

test('a setup link emailed from the console brings the IT admin into the setup wizard', async () => {
  const page = operator;
  // The test before made the console refuse names on purpose.
  page.errors.length = 0;
  await page.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  await page.fill('#tenant-slug', 'wonka');
  await page.fill('#tenant-display-name', 'Wonka');
  await page.click('#create-tenant');
  await page.waitForURL(`${baseUrl}/tenants/wonka`, { timeout: 10_000 });
  await page.waitForSelector('#email-setup-link');
  await page.waitForLoadState('networkidle');

  await page.fill('#setup-link-email', 'it@wonka.example');
  await page.selectOption('#setup-link-email-days', '1');
  await page.click('#email-setup-link');
  await page.waitForSelector('#setup-link-sent', { timeout: 10_000 });
  assert.match(await page.textContent('#setup-link-sent'), /Emailed to it@wonka\.example\. It works once, for 1 day/);
  // The operator never sees the link itself; the list says where it went.
  assert.equal(await page.$('#setup-link'), null);
  await page.waitForFunction(
    () => document.querySelector('#setup-link-list')?.textContent.includes('emailed to it@wonka.example'),
    null,
    { timeout: 10_000 },
  );
  await screenshot(page, 'operator-setup-link-emailed');
  await expectAccessible(page, 'the tenant page after emailing a setup link');

  const message = mailbox().find((m) => m.to.includes('it@wonka.example'));
  assert.ok(message, 'no message to it@wonka.example');
  assert.equal(message.subject, 'Set up directory sync for Wonka');
  const link = message.body.match(/https?:\/\/\S+\/setup\/setup_[A-Za-z0-9_-]+/)?.[0];
  assert.ok(link, message.body);

  // The IT admin follows it: the page offers the address the link was sent to.
  const admin = await openPage(browser);
  await admin.goto(link, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#create-account');
  assert.equal(await admin.inputValue('#admin-email'), 'it@wonka.example');
  await expectAccessible(admin, 'the setup page opened from the email');
  await admin.close();
  const home = await acceptSetupLink(browser, link, 'it@wonka.example', false);
  assert.deepEqual(home.errors, [], 'the admin pages logged errors');
  assert.deepEqual(page.errors, [], 'the console logged errors');
});

// The hex colour of a CSS colour Chromium computed (`rgb(r, g, b)`).
function hexOf(rgb) {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

test('the operator puts the vendor name, colour, logo and support contact on every page', async () => {
  const page = operator;
  await page.goto(`${baseUrl}/branding`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#save-branding');
  await expectAccessible(page, 'the branding page');
  assert.equal(hexOf(await page.$eval('#save-branding', (b) => getComputedStyle(b).backgroundColor)), '#4f46e5');

  // A pale accent would leave links and button labels unreadable: refused, with a shade that passes.
  await page.fill('#brand-name', 'Wonka Identity');
  await page.fill('#brand-accent-colour', '#ffcc00');
  await page.fill('#brand-support-email', 'help@wonka-vendor.example');
  await page.fill('#brand-support-url', 'https://help.wonka-vendor.example/scim');
  await page.click('#save-branding');
  await page.waitForSelector('#branding-error >> text=WCAG AA', { timeout: 10_000 });
  const refusal = await page.textContent('#branding-error');
  const suggestion = refusal.match(/(#[0-9a-f]{6}) is the nearest darker shade that passes/)?.[1];
  assert.ok(suggestion, refusal);
  await expectAccessible(page, 'the branding page with a refused colour');

  // The suggested shade is accepted; the page loads again with it.
  await page.fill('#brand-accent-colour', suggestion);
  await page.click('#save-branding');
  await page.waitForURL(`${baseUrl}/branding?saved=1`, { timeout: 10_000 });
  await page.waitForSelector('#branding-saved');
  assert.equal(hexOf(await page.$eval('#save-branding', (b) => getComputedStyle(b).backgroundColor)), suggestion);

  // The logo: chosen from disk, uploaded with the plain form, shown in the bar.
  await page.setInputFiles('#logo-file', new URL('../fixtures/logo.png', import.meta.url).pathname);
  await page.click('#upload-logo');
  await page.waitForURL(`${baseUrl}/branding?logo=saved`, { timeout: 10_000 });
  await page.waitForSelector('#logo-saved');
  const barLogo = await page.waitForSelector('nav .brand-mark img');
  assert.match(await barLogo.getAttribute('src'), /^\/branding\/logo\/[0-9a-f]{64}\.png$/);
  assert.equal(await barLogo.evaluate((img) => img.complete && img.naturalWidth), 64, 'the logo loaded');
  assert.equal(await page.textContent('nav .brand-mark'), 'Wonka Identity');
  await screenshot(page, 'operator-branding');
  await expectAccessible(page, 'the branding page in the new colour');

  // A visitor who is not signed in sees the brand on the sign-in page, and where to get help.
  const visitor = await openPage(browser);
  await visitor.goto(`${baseUrl}/sign-in`, { waitUntil: 'networkidle' });
  assert.equal(await visitor.title(), 'Wonka Identity');
  assert.equal(await visitor.textContent('main .brand-mark'), 'Wonka Identity');
  assert.equal(await visitor.$eval('main .brand-mark img', (img) => img.complete && img.naturalWidth), 64);
  assert.match(await visitor.textContent('#support-contact'), /Questions about Wonka Identity\? help@wonka-vendor\.example · Support site/);
  assert.equal(hexOf(await visitor.$eval('#sign-in', (b) => getComputedStyle(b).backgroundColor)), suggestion);
  await screenshot(visitor, 'sign-in-branded');
  await expectAccessible(visitor, 'the branded sign-in page');
  assert.deepEqual(visitor.errors, [], 'the sign-in page logged errors');
  await visitor.close();

  // Back to the defaults, so the other files see the product as it ships.
  await page.click('#remove-logo');
  await page.waitForURL(`${baseUrl}/branding?saved=1`, { timeout: 10_000 });
  await page.waitForSelector('#no-logo');
  await page.fill('#brand-name', 'SCIM Portal');
  await page.fill('#brand-accent-colour', '#4f46e5');
  await page.fill('#brand-support-email', '');
  await page.fill('#brand-support-url', '');
  await page.click('#save-branding');
  await page.waitForFunction(() => document.title === 'SCIM Portal', null, { timeout: 10_000 });
  assert.equal(await page.$('#support-contact'), null);
  // The refusal above came back as the page (a plain form), so nothing failed.
  assert.deepEqual(page.errors, [], 'the console logged errors');
});
