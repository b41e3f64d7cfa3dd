// People and invitations as a tenant admin sees them: the home lists the organisation's
// admins and its setup links; an invitation sent to the wrong person is withdrawn (asked
// first) and then opens nothing; a colleague who joined is disabled and is signed out at
// once; the admin changes their own password on their account page. Every page axe-clean.
// Needs an operator API key of the server under test (E2E_API_KEY, which the xtask makes);
// the tenant is made through the operator API, so this file signs nobody in as the operator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, adminPassword, apiKey, baseUrl, expectAccessible, launchBrowser, openPage, operatorApi,
  screenshot,
} from '../support.mjs';


let browser;
before(async () => {
  assert.ok(apiKey, 'E2E_API_KEY is not set');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('an admin withdraws an invitation, disables a colleague and changes their password', async () => {
  await operatorApi('POST', '/api/v1/tenants', { slug: 'monarch', display_name: 'Monarch' });
  const first = await operatorApi('POST', '/api/v1/tenants/monarch/setup-links', {});
  const admin = await acceptSetupLink(browser, first.url, 'it@monarch.example', false);
  const colleagueLink = await operatorApi('POST', '/api/v1/tenants/monarch/setup-links', {});
  const colleague = await acceptSetupLink(browser, colleagueLink.url, 'ops@monarch.example', false);
  const stray = await operatorApi('POST', '/api/v1/tenants/monarch/setup-links', {});

  // The home lists both admins and the three links; the stray one is withdrawn.
  await admin.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#admin-list [data-admin="ops@monarch.example"]', { timeout: 10_000 });
  await admin.waitForSelector(`#setup-link-list [data-setup-link="${stray.id}"] .revoke-setup-link`);
  await expectAccessible(admin, 'the admin home with admins and setup links');
  await admin.click(`#setup-link-list [data-setup-link="${stray.id}"] .revoke-setup-link`);
  await admin.waitForSelector('#revoke-setup-link-confirmation');
  await expectAccessible(admin, 'the withdrawal confirmation');
  await admin.click('#confirm-revoke-setup-link');
  // The withdrawal is a plain form: the page comes back (and hydrates again) with the outcome.
  await admin.waitForURL(`${baseUrl}/admin`, { timeout: 10_000 });
  await admin.waitForFunction(
    (id) => document.querySelector(`#setup-link-list [data-setup-link="${id}"]`)?.textContent.includes('Withdrawn'),
    stray.id,
    { timeout: 10_000 },
  );
  await admin.waitForLoadState('networkidle');
  const visitor = await openPage(browser);
  await visitor.goto(stray.url, { waitUntil: 'networkidle' });
  await visitor.waitForFunction(() => document.body.textContent.includes('withdrawn'), null, { timeout: 10_000 });
  await visitor.close();

  // The colleague is disabled: their open page is signed out at its next request.
  await admin.click('#admin-list [data-admin="ops@monarch.example"] .toggle-admin');
  await admin.waitForFunction(
    () => document.querySelector('#admin-list [data-admin="ops@monarch.example"]')?.textContent.includes('Disabled'),
    null,
    { timeout: 10_000 },
  );
  await screenshot(admin, 'people-admins');
  await colleague.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  await colleague.waitForURL(`${baseUrl}/sign-in`, { timeout: 10_000 });

  // The admin's own account page, reached from the name at the top.
  await admin.click('#signed-in-as');
  await admin.waitForURL(`${baseUrl}/account`);
  await admin.waitForSelector('#change-password');
  await expectAccessible(admin, 'the account page');
  await admin.fill('#current-password', 'not the password');
  await admin.fill('#new-password', 'a brand new passphrase');
  await admin.fill('#confirm-password', 'a brand new passphrase');
  await admin.click('#change-password');
  await admin.waitForSelector('#password-error', { timeout: 10_000 });
  assert.match(await admin.textContent('#password-error'), /current password is not right/);
  await admin.fill('#current-password', adminPassword);
  await admin.fill('#new-password', 'a brand new passphrase');
  await admin.fill('#confirm-password', 'a brand new passphrase');
  await admin.click('#change-password');
  await admin.waitForSelector('#password-changed', { timeout: 10_000 });
  await expectAccessible(admin, 'the account page after a change');
  await screenshot(admin, 'people-account');
  // Still signed in here.
  await admin.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#connect-idp');
  await admin.close();
  await colleague.close();
});
