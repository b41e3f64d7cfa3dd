// The directory dashboard as its admin uses it: what the identity provider did, in words and
// live (no reload), a chart of the last day and week, a failure with its cause, and a user's
// and a group's own pages with their history; the audit trail in the same words. Every page
// here also fits a 390 px wide phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, directoryWithToken, expectAccessible, launchBrowser, openPage, scim, screenshot,
  setupLinkFor, signedInOperator,
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

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function user(userName, displayName) {
  return { schemas: [USER], userName, displayName, active: true, emails: [{ value: userName, type: 'work', primary: true }] };
}

// Pages wider than a phone's 390 px (nothing may scroll sideways), with what sticks out;
// collected over the whole walk and asserted at its end, so one run names them all.
const tooWide = [];
async function fitsAPhone(page, what) {
  const found = await page.evaluate(() => {
    const width = document.documentElement.scrollWidth;
    // What reaches past the edge outside any scrolling box (a table scrolling in its card is fine).
    const clipped = (element) => {
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX !== 'visible') return true;
      }
      return false;
    };
    const culprits = [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > 390.5 && !clipped(element))
      .slice(-4)
      .map((element) => `${element.tagName.toLowerCase()}#${element.id}.${[...element.classList].join('.')}`.slice(0, 120));
    return { width, culprits };
  });
  if (found.width > 390) tooWide.push(`${what} is ${found.width} px wide: ${found.culprits.join(' | ')}`);
}

test('the dashboard says what happened in words, live, and opens a user with its history', async () => {
  const link = await setupLinkFor(operatorPage, 'nakatomi');
  const admin = await acceptSetupLink(browser, link, 'it@nakatomi.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();
  const alice = await scim('POST', `${scimBase}/Users`, token, user('alice@nakatomi.example', 'Alice Smith'));
  assert.equal(alice.status, 201, alice.body);
  const aliceId = JSON.parse(alice.body).id;

  // The page follows the directory's live request stream, which starts after the newest
  // request recorded when it opens: the identity provider goes on only once it is open.
  const streamOpen = admin.waitForResponse((response) => response.url().includes('/requests/stream'), { timeout: 15_000 });
  await admin.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await streamOpen;
  await admin.waitForSelector('#activity', { timeout: 10_000 });
  assert.match(await admin.textContent('#activity'), /Created user Alice Smith \(alice@nakatomi\.example\)/);
  assert.match(await admin.textContent('#activity'), /Okta \(token ‘Issued by it@nakatomi\.example in the setup wizard’\)/);

  // The identity provider goes on while the page stays open: no reload.
  const bob = await scim('POST', `${scimBase}/Users`, token, user('bob@nakatomi.example', 'Bob Jones'));
  const bobId = JSON.parse(bob.body).id;
  const group = await scim('POST', `${scimBase}/Groups`, token,
    { schemas: [GROUP], displayName: 'Umbrella Research', members: [{ value: aliceId }, { value: bobId }] });
  assert.equal(group.status, 201, group.body);
  const groupId = JSON.parse(group.body).id;
  const deactivated = await scim('PATCH', `${scimBase}/Users/${bobId}`, token,
    { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
  assert.equal(deactivated.status, 200, deactivated.body);
  const taken = await scim('POST', `${scimBase}/Users`, token, user('alice@nakatomi.example', 'Alice Again'));
  assert.equal(taken.status, 409);

  await admin.waitForSelector('#activity >> text=Deactivated Bob Jones (bob@nakatomi.example)', { timeout: 20_000 });
  await admin.waitForSelector('#activity >> text=Created group Umbrella Research with 2 members', { timeout: 20_000 });
  await admin.waitForSelector('#users-table >> text=bob@nakatomi.example', { timeout: 20_000 });
  const failure = admin.locator('#activity li[data-ok="false"]').first();
  await failure.waitFor({ timeout: 20_000 });
  assert.match(await failure.textContent(), /Could not create user alice@nakatomi\.example \(409/);
  assert.match(await failure.locator('.activity-cause').textContent(), /^Uniqueness/);
  await admin.waitForSelector('#chart-caption >> text=/5 requests and 1 failure over the last 24 hours/', { timeout: 20_000 });
  await admin.click('#chart-week');
  await admin.waitForSelector('#chart-caption >> text=/over the last 7 days/');
  assert.equal(await admin.getAttribute('#chart-week', 'aria-current'), 'true');
  assert.equal(await admin.getAttribute('#chart-day', 'aria-current'), null);
  await admin.waitForSelector('#edit-setup');
  await screenshot(admin, 'dashboard-activity');
  await expectAccessible(admin, 'the dashboard with activity');

  // Bob's own page, from the users table.
  await admin.click(`#users-table a[href$="/users/${bobId}"]`);
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/users/${bobId}`);
  await admin.waitForSelector('#history', { timeout: 10_000 });
  assert.equal(await admin.textContent('#resource-heading'), 'bob@nakatomi.example');
  const history = await admin.$$eval('#history li p:first-child', (items) => items.map((item) => item.textContent));
  assert.deepEqual(history, ['Deactivated Bob Jones (bob@nakatomi.example)', 'Created user Bob Jones (bob@nakatomi.example)']);
  assert.match(await admin.textContent('#normalized'), /"state": "inactive"/);
  assert.match(await admin.textContent('#stored'), /"displayName": "Bob Jones"/);
  assert.equal(await admin.textContent('#related'), 'Umbrella Research');
  await screenshot(admin, 'user-page');
  await expectAccessible(admin, "a user's page");
  await admin.setViewportSize({ width: 390, height: 844 });
  await fitsAPhone(admin, "a user's page");
  await admin.setViewportSize({ width: 1280, height: 800 });

  // The group's page lists its members by name.
  await admin.click('#related a');
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/groups/${groupId}`);
  await admin.waitForSelector('#related', { timeout: 10_000 });
  assert.match(await admin.textContent('#related'), /alice@nakatomi\.example[\s\S]*bob@nakatomi\.example/);
  await expectAccessible(admin, "a group's page");

  // The audit trail in the same words, the raw request one click away.
  await admin.goto(`${baseUrl}/admin/audit`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#audit-table', { timeout: 10_000 });
  const row = admin.locator('#audit-table tbody tr', { hasText: 'Deactivated Bob Jones (bob@nakatomi.example)' }).first();
  assert.match(await row.textContent(), /Okta \(token ‘Issued by it@nakatomi\.example in the setup wizard’\)/);
  assert.equal(await row.locator('details').getAttribute('open'), null, 'the raw record starts folded');
  await row.locator('details summary').click();
  assert.match(await row.locator('details').textContent(), /PATCH \/scim\/v2\/[0-9a-f-]{36}\/Users\/[0-9a-f-]{36}/);
  await row.locator('a', { hasText: 'Open' }).click();
  await admin.waitForURL(`${baseUrl}/admin/directories/${directory}/users/${bobId}`);

  // A phone's width, page by page: every page of the admin's portal.
  await admin.setViewportSize({ width: 390, height: 844 });
  const dir = `/admin/directories/${directory}`;
  for (const path of [
    '/admin', '/admin/connect', '/admin/audit', '/admin/webhooks', '/admin/offboarding', '/account', dir,
    `${dir}/tokens`, `${dir}/roles`, `${dir}/brake`, `${dir}/users/${bobId}`, `${dir}/groups/${groupId}`,
    ...['provider', 'endpoint', 'token', 'mapping', 'roles', 'test'].map((step) => `${dir}/setup/${step}`),
  ]) {
    await admin.goto(`${baseUrl}${path}`, { waitUntil: 'networkidle' });
    await fitsAPhone(admin, path);
  }
  await screenshot(admin, 'dashboard-phone');
  assert.deepEqual(admin.errors, [], 'the admin pages logged errors');
  await admin.close();

  // The operator sees where the tenant's onboarding stands, at a glance.
  await operatorPage.goto(`${baseUrl}/tenants/nakatomi`, { waitUntil: 'networkidle' });
  const tenantRow = operatorPage.locator(`#directory-list li[data-directory="${directory}"]`);
  await tenantRow.waitFor({ timeout: 10_000 });
  const status = await tenantRow.textContent();
  assert.match(status, /Okta/);
  assert.match(status, /Setup complete on \d{4}-\d{2}-\d{2}|In setup: step \d of 6/);
  assert.match(status, /1 active, 1 deactivated/);
  assert.match(status, /Some failures|Failing/);
  await operatorPage.waitForSelector('#setup-link-list', { timeout: 10_000 });
  assert.match(await operatorPage.textContent('#setup-link-list'), /used by it@nakatomi\.example on/);
  await expectAccessible(operatorPage, "the operator's tenant page");

  // From there, staff read the directory's users and activity and the tenant's trail.
  await tenantRow.locator('a.directory-browse').click();
  await operatorPage.waitForURL(`${baseUrl}/tenants/nakatomi/directories/${directory}`);
  await operatorPage.waitForSelector('#activity >> text=Deactivated Bob Jones (bob@nakatomi.example)', { timeout: 10_000 });
  await operatorPage.waitForSelector('#users-table >> text=bob@nakatomi.example');
  await expectAccessible(operatorPage, "staff's view of a directory");
  await operatorPage.click(`#users-table a[href$="/users/${bobId}"]`);
  await operatorPage.waitForURL(`${baseUrl}/tenants/nakatomi/directories/${directory}/users/${bobId}`);
  await operatorPage.waitForSelector('#history', { timeout: 10_000 });
  assert.match(await operatorPage.textContent('#history'), /Deactivated Bob Jones/);
  await operatorPage.goto(`${baseUrl}/tenants/nakatomi`, { waitUntil: 'networkidle' });
  await operatorPage.click('#tenant-audit');
  await operatorPage.waitForURL(`${baseUrl}/tenants/nakatomi/audit`);
  await operatorPage.waitForSelector('#audit-table', { timeout: 10_000 });
  const staffRow = operatorPage.locator('#audit-table tbody tr', { hasText: 'Looked at directory activity' }).first();
  assert.match(await staffRow.textContent(), /operator@e2e\.example \(vendor operator\)/);
  await operatorPage.fill('#audit-resource', 'bob@nakatomi.example');
  await operatorPage.waitForURL(/\/tenants\/nakatomi\/audit\?resource=bob%40nakatomi\.example/, { timeout: 10_000 });
  await operatorPage.waitForSelector('#audit-table >> text=Created user Bob Jones (bob@nakatomi.example)', { timeout: 10_000 });
  await expectAccessible(operatorPage, "staff's view of the tenant's trail");

  // Every page of the operator's console, and the public ones, fit a phone too.
  await operatorPage.setViewportSize({ width: 390, height: 844 });
  for (const path of [
    '/', '/tenants', '/tenants/nakatomi', '/tenants/nakatomi/audit', `/tenants/nakatomi/directories/${directory}`,
    `/tenants/nakatomi/directories/${directory}/users/${bobId}`, '/team', '/api-keys', '/account', '/roles', '/support',
    '/no/such/page',
  ]) {
    await operatorPage.goto(`${baseUrl}${path}`, { waitUntil: 'networkidle' });
    await fitsAPhone(operatorPage, path);
  }
  await screenshot(operatorPage, 'tenant-page-phone');
  await operatorPage.setViewportSize({ width: 1280, height: 800 });
  const visitor = await openPage(browser);
  await visitor.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/sign-in', '/setup/setup_nosuchlinknosuchlinknosuchlinknosuchlink123']) {
    await visitor.goto(`${baseUrl}${path}`, { waitUntil: 'networkidle' });
    await fitsAPhone(visitor, path);
  }
  await visitor.close();
  assert.deepEqual(tooWide, [], 'pages wider than a 390 px phone');
});

test('the admin chooses what happens to service accounts and agents whose owner leaves', async () => {
  // The test before left the console on a page that is not there, on purpose.
  operatorPage.errors = [];
  const link = await setupLinkFor(operatorPage, 'weyland');
  const admin = await acceptSetupLink(browser, link, 'it@weyland.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();
  const NHI = 'urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User';
  const peter = await scim('POST', `${scimBase}/Users`, token, user('peter@weyland.example', 'Peter Weyland'));
  assert.equal(peter.status, 201, peter.body);
  const david = await scim('POST', `${scimBase}/Users`, token, user('david@weyland.example', 'David'));
  assert.equal(david.status, 201, david.body);
  const agent = await scim('POST', `${scimBase}/Users`, token, {
    schemas: [USER, NHI], userName: 'mother-agent', [NHI]: { kind: 'agent', owner: { value: JSON.parse(peter.body).id } },
  });
  assert.equal(agent.status, 201, agent.body);

  await admin.goto(`${baseUrl}/admin/directories/${directory}`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#owner-policy-summary');
  assert.match(await admin.textContent('#owner-policy-summary'), /stay as they are, flagged/);
  assert.equal(await admin.isVisible('#owner-policy-fallback'), false, 'no fallback field until reassigning is chosen');

  // Reassigning asks for the fallback owner; someone who is not in the directory is refused.
  await admin.selectOption('#owner-policy-choice', 'reassign');
  await admin.waitForSelector('#owner-policy-fallback');
  await admin.fill('#owner-policy-fallback', 'nobody@weyland.example');
  await admin.click('#save-owner-policy');
  await admin.waitForSelector('#owner-policy-error >> text=No user of this directory', { timeout: 10_000 });
  // The page came back with what was chosen and typed.
  assert.equal(await admin.inputValue('#owner-policy-choice'), 'reassign');
  assert.equal(await admin.inputValue('#owner-policy-fallback'), 'nobody@weyland.example');
  await expectAccessible(admin, 'the owner policy with a refused fallback');

  await admin.fill('#owner-policy-fallback', 'David@Weyland.example');
  await admin.click('#save-owner-policy');
  // The form loads again with what was saved.
  await admin.waitForFunction(
    () => !document.querySelector('#owner-policy-summary')?.textContent.includes('stay as they are'),
    null,
    { timeout: 10_000 },
  ).catch(() => {});
  assert.match(
    await admin.textContent('#owner-policy-summary'),
    /given to david@weyland\.example within a minute/,
    `the policy was not saved: ${await admin.textContent('#owner-policy')}`,
  );
  assert.equal(await admin.textContent('#owner-policy-error'), '', 'the refusal is gone');
  await screenshot(admin, 'dashboard-owner-policy');
  await expectAccessible(admin, 'the dashboard with an owner policy');

  // The extension cannot be turned off while an agent uses it: the page says why.
  assert.match(await admin.textContent('#nonhuman-extension-state'), /offers the non-human identity extension/);
  await admin.click('#toggle-nonhuman-extension');
  await admin.waitForSelector('#nonhuman-extension-outcome >> text=still has service accounts, agents or agentic applications (1)', {
    timeout: 10_000,
  });
  assert.match(await admin.textContent('#nonhuman-extension-state'), /offers the non-human identity extension/);
  // Every user was just written: nobody is stale.
  await admin.waitForSelector('#no-stale-users');
  await expectAccessible(admin, 'the dashboard with a refused extension change and the stale-user report');
  // The refusals come back as pages (plain forms): nothing is logged.
  assert.deepEqual(admin.errors, [], 'the admin pages logged errors');
});

test('the admin suspends a user while the identity provider cannot be reached, and lifts it', async () => {
  operatorPage.errors = [];
  const link = await setupLinkFor(operatorPage, 'massive');
  const admin = await acceptSetupLink(browser, link, 'it@massive.example', false);
  const { scimBase, token } = await directoryWithToken(admin);
  const directory = scimBase.split('/').pop();
  const created = await scim('POST', `${scimBase}/Users`, token, user('sol@massive.example', 'Sol Roth'));
  assert.equal(created.status, 201, created.body);
  const id = JSON.parse(created.body).id;

  await admin.goto(`${baseUrl}/admin/directories/${directory}/users/${id}`, { waitUntil: 'networkidle' });
  await admin.waitForSelector('#suspend-user');
  // Suspending asks why.
  await admin.click('#suspend-user');
  await admin.waitForSelector('#suspension-error >> text=Say why the user is suspended', { timeout: 10_000 });
  await admin.fill('#suspension-reason', 'Okta is down; laptop reported stolen');
  await admin.click('#suspend-user');
  await admin.waitForSelector('#suspension-state >> text=Suspended since', { timeout: 10_000 });
  assert.match(
    await admin.textContent('#suspension-state'),
    /by it@massive\.example: Okta is down; laptop reported stolen/,
  );
  assert.match(await admin.textContent('#normalized'), /"state": "suspended"/);
  await screenshot(admin, 'user-suspended');
  await expectAccessible(admin, 'a suspended user');

  // The identity provider reads what it wrote and writes on; the suspension holds.
  const read = await scim('GET', `${scimBase}/Users/${id}`, token);
  assert.equal(JSON.parse(read.body).active, true, read.body);
  const patched = await scim('PATCH', `${scimBase}/Users/${id}`, token, {
    schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }],
  });
  assert.equal(patched.status, 200, patched.body);
  await admin.reload({ waitUntil: 'networkidle' });
  await admin.waitForSelector('#suspension-state >> text=Suspended since');
  assert.match(await admin.textContent('#normalized'), /"state": "suspended"/);

  await admin.click('#lift-suspension');
  await admin.waitForSelector('#suspend-user', { timeout: 10_000 });
  assert.match(await admin.textContent('#normalized'), /"state": "active"/);
  await expectAccessible(admin, 'a user whose suspension was lifted');
  // The refusal (no reason) comes back as the page (a plain form): nothing is logged.
  assert.deepEqual(admin.errors, [], 'the admin pages logged errors');
});
