// The safety brake: the tenant admin lowers the mass-deactivation threshold and marks a
// privileged group; Microsoft Entra ID then deactivates more users than the threshold allows
// and adds someone to the privileged group. The identity provider's requests all succeed,
// the product's feed shows none of the held changes, the dashboard says changes are held,
// and the admin reviews the batch (who, what, sent by which token) and releases it: the feed
// then has every change, in order.
// Needs an operator API key of the server under test (E2E_API_KEY, which the xtask makes);
// the tenant is made through the operator API, so this file signs nobody in as the operator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, apiKey, baseUrl, expectAccessible, launchBrowser, operatorApi, scim, screenshot,
} from '../support.mjs';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let browser;
before(async () => {
  assert.ok(apiKey, 'E2E_API_KEY is not set');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function feed(directory) {
  const page = await operatorApi('GET', `/api/v1/directories/${directory}/events?limit=500`);
  return page.events;
}

test('the admin reviews a held mass deactivation and releases it to the product', async () => {
  await operatorApi('POST', '/api/v1/tenants', { slug: 'lexcorp', display_name: 'Lexcorp' });
  const link = await operatorApi('POST', '/api/v1/tenants/lexcorp/setup-links', {});
  const admin = await acceptSetupLink(browser, link.url, 'it@lexcorp.example', false);
  const created = await operatorApi('POST', '/api/v1/tenants/lexcorp/directories', { idp: 'entra' });
  const { scim_base_url: scimBase, id: directory } = created.directory;
  const { token } = created;

  // Entra provisions 30 users and a group of admins.
  const users = [];
  for (let n = 1; n <= 30; n += 1) {
    const name = `employee${n}@lexcorp.example`;
    const made = await scim('POST', `${scimBase}/Users`, token, { schemas: [USER], userName: name, active: 'True' });
    assert.equal(made.status, 201, made.body);
    users.push(JSON.parse(made.body).id);
  }
  const group = await scim('POST', `${scimBase}/Groups`, token, {
    schemas: [GROUP], displayName: 'Domain Admins', members: [{ value: users[0] }],
  });
  assert.equal(group.status, 201, group.body);
  const groupId = JSON.parse(group.body).id;

  // The admin: at least 5 users (more than 10 % of 30 is 4), and Domain Admins privileged.
  await admin.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#manage-brake', { timeout: 10_000 });
  await admin.click('#manage-brake');
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/brake`);
  await admin.waitForSelector('#brake-settings', { timeout: 10_000 });
  await admin.waitForSelector('#nothing-held');
  await admin.fill('#brake-minimum', '5');
  await admin.click('#save-brake');
  await admin.waitForSelector('#brake-saved', { timeout: 10_000 });
  await admin.click(`#privileged-${groupId}`);
  await admin.waitForSelector('#privileged-saved', { timeout: 10_000 });
  await admin.waitForSelector('#privileged-groups li[data-group="Domain Admins"][data-privileged="true"]');
  await expectAccessible(admin, 'the safety brake page');
  await screenshot(admin, 'safety-brake-settings');

  // Entra deactivates 8 users (the 5th crosses the threshold) and adds one to the group.
  const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] };
  for (const user of users.slice(0, 8)) {
    assert.equal((await scim('PATCH', `${scimBase}/Users/${user}`, token, deactivate)).status, 200);
  }
  const grant = { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: users[10] }] }] };
  const granted = await scim('PATCH', `${scimBase}/Groups/${groupId}`, token, grant);
  assert.ok(granted.status === 200 || granted.status === 204, granted.body);

  const before = await feed(directory);
  assert.equal(before.filter((e) => e.type === 'user.deactivated').length, 4, 'the held ones are not published');
  assert.equal(before.filter((e) => e.type === 'group.member_added' && e.data.members.includes(users[10])).length, 0);

  // The dashboard says so; the review lists who, what and which token sent it.
  await admin.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#held-banner', { timeout: 10_000 });
  assert.match(await admin.textContent('#held-banner'), /5 changes are held for your review/);
  await expectAccessible(admin, 'the dashboard with held changes');
  await admin.click('#review-held');
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/brake`);
  await admin.waitForSelector('#held-changes', { timeout: 10_000 });
  const rows = admin.locator('#held-changes tbody tr');
  assert.equal(await rows.count(), 5);
  assert.match(await rows.nth(0).textContent(), /Deactivated employee5@lexcorp\.example/);
  assert.match(await rows.nth(0).textContent(), /Microsoft Entra ID \(token ‘/);
  assert.match(await rows.nth(4).textContent(), /Added employee11@lexcorp\.example to ‘Domain Admins’/);
  assert.match(await admin.textContent('#held-batch'), /4 of the changes deactivate or delete users/);
  await expectAccessible(admin, 'the held changes');
  await screenshot(admin, 'safety-brake-held');

  // Release, confirmed.
  await admin.click('#release-held');
  await admin.waitForURL(/\?decide=release$/);
  await admin.waitForSelector('#confirm-decision');
  assert.match(await admin.textContent('#confirm-question'), /Release all 5 changes\?/);
  await expectAccessible(admin, 'the release confirmation');
  await admin.click('#confirm-held-decision');
  await admin.waitForSelector('#decision-outcome', { timeout: 10_000 });
  assert.match(await admin.textContent('#decision-outcome'), /Released: 5 changes were sent to the product/);
  await admin.waitForSelector('#nothing-held', { timeout: 10_000 });
  await admin.waitForSelector('#past-batches li[data-state="released"]');
  assert.match(await admin.textContent('#past-batches'), /Released by it@lexcorp\.example/);
  await expectAccessible(admin, 'the safety brake page after the release');

  const after = await feed(directory);
  const deactivated = after.filter((e) => e.type === 'user.deactivated').map((e) => e.resource_id);
  assert.deepEqual(deactivated, users.slice(0, 8), 'every deactivation, in the order Entra sent them');
  assert.equal(after.filter((e) => e.type === 'group.member_added' && e.data.members.includes(users[10])).length, 1);
  assert.deepEqual(admin.errors, []);
});
