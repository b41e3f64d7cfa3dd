// Offboarding you can prove: the identity provider deactivates one user and deletes another;
// the vendor's product reads the directory's feed and confirms the deactivation through the
// operator API. The tenant admin's Offboarding page shows both leavers with their timeline
// (the confirmed one with its time to revoke), filters by status through the address (a
// shareable view), and exports the rows as CSV; the support console lists the tenant among
// those with unconfirmed revocations.
// Needs an operator API key of the server under test (E2E_API_KEY, which the xtask makes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, apiKey, baseUrl, directoryWithToken, expectAccessible, launchBrowser, operatorApi, scim,
  screenshot, setupLinkFor, signedInOperator,
} from '../support.mjs';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let browser;
let operatorPage;
before(async () => {
  assert.ok(apiKey, 'E2E_API_KEY is not set');
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
});
after(async () => {
  await browser?.close();
});

test('the admin sees each leaver with its timeline, filters by status and exports CSV', async () => {
  const admin = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'cyberdyne'), 'it@cyberdyne.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();

  // The identity provider: two users, one deactivated, one deleted.
  const ids = {};
  for (const name of ['alice@cyberdyne.example', 'bob@cyberdyne.example']) {
    const created = await scim('POST', `${scimBase}/Users`, token, { schemas: [USER], userName: name, active: true });
    assert.equal(created.status, 201, created.body);
    ids[name] = JSON.parse(created.body).id;
  }
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] };
  assert.equal((await scim('PATCH', `${scimBase}/Users/${ids['alice@cyberdyne.example']}`, token, patch)).status, 200);
  assert.equal((await scim('DELETE', `${scimBase}/Users/${ids['bob@cyberdyne.example']}`, token)).status, 204);

  // The product reads the feed, revokes Alice's access, and confirms it.
  const page = await operatorApi('GET', `/api/v1/directories/${directory}/events`);
  const deactivation = page.events.find((event) => event.type === 'user.deactivated');
  const receipt = await operatorApi('POST', `/api/v1/directories/${directory}/events/${deactivation.cursor}/ack`);
  assert.equal(receipt.revocation.status, 'applied');

  await admin.goto(`${baseUrl}/admin/offboarding`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#leavers', { timeout: 10_000 });
  const alice = admin.locator('#leavers tr[data-user="alice@cyberdyne.example"]');
  const bob = admin.locator('#leavers tr[data-user="bob@cyberdyne.example"]');
  assert.equal(await alice.getAttribute('data-status'), 'applied');
  assert.match(await alice.textContent(), /Deactivated/);
  assert.match(await alice.textContent(), /Access removed/);
  assert.match(await alice.textContent(), /\d+ (ms|s)/, 'the time to revoke is shown');
  assert.equal(await bob.getAttribute('data-status'), 'delivered');
  assert.match(await bob.textContent(), /Deleted/);
  assert.match(await bob.textContent(), /Delivered, not confirmed/);
  assert.match(await admin.textContent('#leavers-summary'), /2 shown: 1 removed, 1 awaiting confirmation, 0 overdue/);
  await expectAccessible(admin, 'the offboarding page');
  await screenshot(admin, 'offboarding');

  // Filtering goes through the address: the view can be shared.
  await admin.selectOption('#offboarding-status', 'applied');
  await admin.click('#offboarding-filter');
  await admin.waitForURL(/\/admin\/offboarding\?status=applied/, { timeout: 10_000 });
  await admin.waitForSelector('#leavers', { timeout: 10_000 });
  assert.equal(await admin.locator('#leavers tbody tr').count(), 1);
  assert.equal(await admin.inputValue('#offboarding-status'), 'applied');
  await admin.goto(`${baseUrl}/admin/offboarding?user=nobody`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#no-leavers', { timeout: 10_000 });
  assert.match(await admin.textContent('#no-leavers'), /No leavers match/);
  await expectAccessible(admin, 'the offboarding page without matches');

  // The export, as the browser downloads it (compressed), with the page's filters.
  await admin.goto(`${baseUrl}/admin/offboarding?status=applied`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#leavers', { timeout: 10_000 });
  const href = await admin.getAttribute('#export-offboarding', 'href');
  assert.equal(href, '/admin/offboarding/export?status=applied');
  const exported = await admin.request.get(`${baseUrl}${href}`, { headers: { 'accept-encoding': 'gzip, br' } });
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()['content-type'], /^text\/csv/);
  const lines = (await exported.text()).trim().split('\n');
  assert.match(lines[0], /^user_name,user_id,directory_id,directory,change,requested_at,delivered_at/);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[1], /^alice@cyberdyne\.example,/);
  assert.match(lines[1], /,applied$/);

  // Support sees the tenant among those with unconfirmed revocations (Bob's).
  await operatorPage.goto(`${baseUrl}/support`, { waitUntil: 'networkidle' });
  await operatorPage.waitForSelector('#unapplied-table tr[data-tenant="cyberdyne"]', { timeout: 10_000 });
  assert.match(await operatorPage.textContent('#unapplied-table tr[data-tenant="cyberdyne"]'), /1/);
  await expectAccessible(operatorPage, 'the support console with unconfirmed revocations');
  assert.deepEqual(admin.errors, []);
});
