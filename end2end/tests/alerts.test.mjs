// Alerts: a burst of failed SCIM requests opens an alert that the tenant admin sees at the
// top of the directory's dashboard (and its home) and support sees in the console; the
// admin sets when a silent identity provider should raise one. The server under test
// checks the alert conditions every second (ALERT_CHECK_SECONDS, set by the xtask).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, scim, screenshot, setupLinkFor,
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
