// A support engineer investigates a failing sync: a tenant's identity provider keeps
// creating a user that exists; the operator adds a support colleague; support opens the
// support console, finds the cause, opens the failed request with its fix hint; the
// tenant's admin then sees that access in the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, openPage, screenshot, setupLinkFor,
  signedInOperator,
} from '../support.mjs';

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
  await support.click('button.cause-link[data-cause="uniqueness_conflict"]');
  await support.waitForSelector('#failures-table >> text=stark', { timeout: 10_000 });
  const row = support.locator('#failures-table tr', { hasText: 'stark' }).first();
  assert.match(await row.textContent(), /POST \/scim\/v2\/[0-9a-f-]{36}\/Users/);
  await row.locator('button.investigate').click();
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
  await support.click('button.cause-link[data-cause="malformed_request"]');
  await support.waitForSelector('#failures-table >> text=GET', { timeout: 10_000 });
  await support.locator('#failures-table tr', { hasText: 'GET' }).first().locator('button.investigate').click();
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
