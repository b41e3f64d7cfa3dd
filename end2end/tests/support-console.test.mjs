// A support engineer investigates a failing sync: a tenant's identity provider keeps
// creating a user that exists; the operator adds a support colleague; support opens the
// support console, finds the cause, opens the failed request with its fix hint; the
// tenant's admin then sees that access in the audit trail. And alerts: a burst of failed
// SCIM requests opens an alert that the tenant admin sees at the top of the directory's
// dashboard (and its home) and support sees in the console; the admin sets when a silent
// identity provider should raise one. The server under test checks the alert conditions
// every second (ALERT_CHECK_SECONDS, set by the xtask).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, openPage, scim, screenshot, setupLinkFor,
  signedInOperator,
} from '../support.mjs';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let browser;
let operatorPage;
before(async () => {
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
});
after(async () => {
  await browser?.close();
});


async function createUser(scimBase, token, userName) {
  const response = await fetch(`${scimBase}/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, password: 'hunter2-secret' }),
  });
  return response.status;
}

test('support investigates a failing sync and the tenant admin sees the access', async () => {
  const admin = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'stark'), 'it@stark.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  assert.equal(await createUser(scimBase, token, 'tony@stark.example'), 201);
  // The identity provider retries the create: every retry is a uniqueness conflict.
  for (let i = 0; i < 3; i += 1) assert.equal(await createUser(scimBase, token, 'tony@stark.example'), 409);
  // And a read with a filter it cannot parse: a failed GET.
  const badFilter = await fetch(`${scimBase}/Users?filter=${encodeURIComponent('userName eq')}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(badFilter.status, 400);

  // The operator adds a support colleague, who signs in with the password shown once.
  await operatorPage.goto(`${baseUrl}/team`, { waitUntil: 'networkidle' });
  await operatorPage.fill('#operator-email', 'sam@vendor.example');
  await operatorPage.selectOption('#operator-role', 'support');
  await operatorPage.click('#add-operator');
  await operatorPage.waitForSelector('#new-operator-password', { timeout: 10_000 });
  const supportPassword = await operatorPage.inputValue('#new-operator-password');
  const support = await openPage(browser);
  await support.goto(`${baseUrl}/sign-in`, { waitUntil: 'networkidle' });
  await support.fill('#email', 'sam@vendor.example');
  await support.fill('#password', supportPassword);
  await support.click('#sign-in');
  await support.waitForSelector('#signed-in-as', { timeout: 10_000 });

  await support.goto(`${baseUrl}/support`, { waitUntil: 'networkidle' });
  await support.waitForSelector('#causes-table', { timeout: 10_000 });
  await screenshot(support, 'support-causes');
  await expectAccessible(support, 'the support console');
  await support.click('a.cause-link[data-cause="uniqueness_conflict"]');
  await support.waitForSelector('#failures-table >> text=stark', { timeout: 10_000 });
  const row = support.locator('#failures-table tr', { hasText: 'stark' }).first();
  assert.match(await row.textContent(), /POST \/scim\/v2\/[0-9a-f-]{36}\/Users/);
  await row.locator('a.investigate').click();
  await support.waitForSelector('#failure-detail', { timeout: 10_000 });
  assert.match(await support.textContent('#fix-hint'), /^Uniqueness conflict: A user or group with the same name/);
  const request = await support.textContent('#failure-request');
  assert.match(request, /tony@stark\.example/);
  assert.match(request, /\[redacted\]/);
  assert.doesNotMatch(request, /hunter2/);
  assert.match(await support.textContent('#failure-response'), /"scimType": "uniqueness"/);
  await screenshot(support, 'support-failure-detail');
  await expectAccessible(support, 'the opened failure');
  // The investigation has its own address: shared or reloaded, it opens the same failure.
  await support.waitForURL(/\/support\?cause=uniqueness_conflict&failure=[0-9a-f-]{36}:\d+$/, { timeout: 10_000 });
  const heading = await support.textContent('#failure-detail h2');
  await support.reload({ waitUntil: 'networkidle' });
  await support.waitForSelector('#failure-detail', { timeout: 10_000 });
  assert.equal(await support.textContent('#failure-detail h2'), heading);
  assert.match(await support.textContent('#failure-request'), /tony@stark\.example/);
  // A failed GET carries no body: the detail says so instead of showing `null`.
  await support.click('a.cause-link[data-cause="malformed_request"]');
  await support.waitForSelector('#failures-table >> text=GET', { timeout: 10_000 });
  await support.locator('#failures-table tr', { hasText: 'GET' }).first().locator('a.investigate').click();
  await support.waitForFunction(
    () => document.querySelector('#failure-detail h2')?.textContent?.startsWith('GET'),
    null,
    { timeout: 10_000 },
  );
  const getRequest = await support.textContent('#failure-request');
  assert.match(getRequest, /^No body: a GET request carries none/);
  assert.doesNotMatch(getRequest, /null/);
  assert.deepEqual(support.errors, [], 'the support console logged errors');

  // The tenant's admin sees who looked, in the audit trail.
  await admin.goto(`${baseUrl}/admin/audit`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#audit-table', { timeout: 10_000 });
  const viewed = admin.locator('#audit-table tr', { hasText: 'support.viewed_request' }).first();
  await viewed.waitFor({ timeout: 10_000 });
  assert.match(await viewed.textContent(), /sam@vendor\.example/);
  await screenshot(admin, 'admin-sees-support-access');
  assert.deepEqual(admin.errors, [], 'the admin pages logged errors');
});

test('a burst of failures is alerted on the dashboard and in the support console', async () => {
  const admin = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'tyrell'), 'it@tyrell.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();
  const created = await scim('POST', `${scimBase}/Users`, token, { schemas: [USER], userName: 'sol@tyrell.example' });
  assert.equal(created.status, 201, created.body);
  for (let n = 0; n < 12; n += 1) {
    assert.equal((await scim('GET', `${scimBase}/Users/missing-${n}`, token)).status, 404);
  }

  // The next check (every second here) opens the alert; the dashboard reads it on load.
  const dashboard = `${baseUrl}/admin/directories/${directory}`;
  let shown = false;
  for (let attempt = 0; attempt < 20 && !shown; attempt += 1) {
    await admin.goto(dashboard, { waitUntil: 'networkidle' });
    await admin.waitForSelector('#dashboard-heading', { timeout: 10_000 });
    shown = (await admin.locator('#open-alerts').count()) > 0;
    if (!shown) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(shown, 'the alert did not appear on the dashboard');
  const alert = admin.locator('#open-alerts li[data-alert-kind="scim_errors"]');
  assert.match(await alert.textContent(), /Failed requests/);
  assert.match(await alert.textContent(), /12 of 13 SCIM requests to ‘Okta’ failed in the last 15 minutes/);
  assert.match(await alert.textContent(), /each shows the request, the answer and its cause/);
  assert.equal(await admin.textContent('#open-alerts-heading'), '1 open alert');

  // When a silent provider should raise an alert: Okta pushes only on change, no default.
  await admin.waitForSelector('#silence-applies', { timeout: 10_000 });
  assert.equal(await admin.textContent('#silence-applies'), 'No alert when Okta is silent.');
  await admin.fill('#silence-hours', '24');
  await admin.click('#save-silence');
  await admin.waitForFunction(
    () => document.querySelector('#silence-applies')?.textContent === 'An alert after 24 hours without a request from Okta.',
    null,
    { timeout: 10_000 },
  );
  // The browser refuses a negative number before it is sent (the server refuses it in words
  // too: the HTTP tests).
  await admin.fill('#silence-hours', '-3');
  assert.equal(await admin.$eval('#silence-hours', (input) => input.validity.valid), false);
  await admin.fill('#silence-hours', '24');
  await expectAccessible(admin, 'the dashboard with an open alert');
  await screenshot(admin, 'dashboard-alert');

  // The admin's home shows it too.
  await admin.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#open-alerts', { timeout: 10_000 });
  assert.equal(await admin.locator('#open-alerts li').count(), 1);

  // Support sees it with its tenant.
  await operatorPage.goto(`${baseUrl}/support`, { waitUntil: 'networkidle' });
  await operatorPage.waitForSelector('#support-alerts', { timeout: 10_000 });
  const row = operatorPage.locator('#support-alerts li[data-alert-kind="scim_errors"]', { hasText: 'tyrell' });
  assert.equal(await row.count(), 1);
  await expectAccessible(operatorPage, 'the support console with an open alert');
});
