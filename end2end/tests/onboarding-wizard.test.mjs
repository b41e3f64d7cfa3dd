// A customer admin onboards alone: the operator hands out a setup link; the admin sets a
// password and walks the five wizard steps for Okta and for Entra ID; the test then acts as
// the identity provider with the token shown in the page and watches its request arrive
// live; the user appears in the dashboard; tokens rotate with an overlap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, adminPassword, baseUrl, expectAccessible, launchBrowser, openPage, scim, screenshot, setupLinkFor,
  signedInOperator,
} from '../support.mjs';

let browser;
// One signed-in operator for the whole file: sign-in attempts per account are throttled.
let operatorPage;
before(async () => {
  browser = await launchBrowser();
  operatorPage = await signedInOperator(browser);
});
after(async () => {
  await browser?.close();
});

// Steps 1 and 2 for `idp`, from the admin home to the token step, which waits for the
// identity provider's first request; returns the SCIM base URL the endpoint step showed.
// Screenshots are named after `shots`.
async function toTokenStep(page, idp, expectedInstruction, shots = idp) {
  await page.click('#connect-idp');
  await page.waitForURL(`${baseUrl}/admin/connect`);
  await page.waitForSelector(`#idp-${idp}`);
  await screenshot(page, `${shots}-step-1-provider`);
  await expectAccessible(page, 'step 1');
  await page.check(`#idp-${idp}`);
  await page.click('#choose-idp');
  await page.waitForURL(/\/setup\/endpoint$/, { timeout: 10_000 });

  await page.waitForSelector('#scim-base-url');
  const scimBase = await page.inputValue('#scim-base-url');
  assert.match(scimBase, new RegExp(`^${baseUrl}/scim/v2/[0-9a-f-]{36}$`));
  assert.match(await page.textContent('#idp-instructions'), expectedInstruction);
  await screenshot(page, `${shots}-step-2-endpoint`);
  await expectAccessible(page, 'step 2');
  await page.click('#next-step');

  await page.waitForURL(/\/setup\/token$/);
  await page.waitForSelector('#waiting', { timeout: 10_000 });
  await page.waitForLoadState('networkidle');
  // The token step repeats the address: Entra asks for both on one screen.
  assert.equal(await page.inputValue('#token-step-base-url'), scimBase);
  return scimBase;
}

// Walks all five steps for `idp`, acting as the identity provider at step 3; returns what
// later checks need.
async function walkWizard(page, idp, userName, expectedInstruction) {
  const scimBase = await toTokenStep(page, idp, expectedInstruction);
  await page.click('#generate-token');
  await page.waitForSelector('#new-token', { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  assert.match(token, /^scim_[A-Za-z0-9_-]{43}$/);
  await expectAccessible(page, 'step 3');
  // Now the identity provider: the page turns green without a reload.
  const created = await scim('POST', `${scimBase}/Users`, token, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
  });
  assert.equal(created.status, 201, created.body);
  await page.waitForSelector('#connected', { timeout: 15_000 });
  assert.match(await page.textContent('#connected'), /POST \/scim\/v2\/.*\/Users → 201/);
  await screenshot(page, `${idp}-step-3-token`);
  await page.click('#next-step');

  await page.waitForURL(/\/setup\/mapping$/);
  await page.waitForSelector('#mapping-table');
  await screenshot(page, `${idp}-step-4-mapping`);
  await expectAccessible(page, 'step 4');
  const userNameSource = await page.inputValue('#source-0');
  await page.click('#save-mapping');
  await page.waitForSelector('#mapping-saved', { timeout: 10_000 });
  await page.click('#next-step');

  await page.waitForURL(/\/setup\/test$/);
  await page.waitForSelector('#live-feed', { timeout: 10_000 });
  assert.match(await page.textContent('#live-feed'), /POST \/scim\/v2\/[0-9a-f-]{36}\/Users/);
  await page.waitForSelector('#setup-complete', { timeout: 10_000 });
  await page.click('#run-self-test');
  await page.waitForSelector('#self-test-steps', { timeout: 30_000 });
  const outcomes = await page.$$eval('#self-test-steps li', (items) => items.map((item) => item.textContent));
  assert.equal(outcomes.length, 10, outcomes.join('\n'));
  for (const outcome of outcomes) assert.match(outcome, /^Passed/, outcome);
  // The self-test's last request (the deleted user's 404) reaches the live feed: nothing
  // more is on its way, so leaving the page later cuts no read of the feed short.
  await page.waitForSelector('#live-feed >> text=404', { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  await screenshot(page, `${idp}-step-5-test`);
  await expectAccessible(page, 'step 5');
  return { scimBase, token, userNameSource };
}

test('a new admin connects Okta alone, sees the first request live, and rotates the token', async () => {
  const link = await setupLinkFor(operatorPage, 'initech');
  const page = await acceptSetupLink(browser, link, 'it@initech.example', true);
  await screenshot(page, 'admin-home-empty');
  await expectAccessible(page, 'the admin home');

  const { scimBase, token, userNameSource } = await walkWizard(page, 'okta', 'ada@initech.example', /SCIM connector base URL/);
  assert.equal(userNameSource, 'user.login');

  await page.click('#open-dashboard');
  await page.waitForSelector('#users-table', { timeout: 10_000 });
  assert.match(await page.textContent('#users-table'), /ada@initech\.example/);
  assert.match(await page.textContent('#sync-health'), /Requests, last 24 h/);
  await screenshot(page, 'okta-dashboard');
  await expectAccessible(page, 'the dashboard');

  await page.click('#manage-tokens');
  await page.waitForSelector('#token-table', { timeout: 10_000 });
  await page.waitForLoadState('networkidle');
  const row = page.locator('#token-table tr', { hasText: 'setup wizard' });
  await row.locator('select').selectOption('60');
  await row.locator('.rotate-token').click();
  await page.waitForSelector('#old-token-until', { timeout: 10_000 });
  const newToken = await page.inputValue('#issued-token');
  assert.notEqual(newToken, token);
  // During the overlap both tokens work.
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 200);
  assert.equal((await scim('GET', `${scimBase}/Users`, newToken)).status, 200);
  await page.waitForSelector('#token-table >> text=Expires soon');
  // The new token's name says where it came from.
  const rotatedRow = page.locator('#token-table tr', { hasText: 'Rotated from' });
  assert.match(await rotatedRow.textContent(), /Rotated from ‘[^’]*setup wizard[^’]*’ on \d{1,2} [A-Z][a-z]{2}/);
  await screenshot(page, 'okta-tokens-rotated');
  await expectAccessible(page, 'the tokens page');
  // Revoking asks first, naming the token and its last use; then it is refused at once.
  const oldRow = page.locator('#token-table tr', { hasText: 'Expires soon' });
  await oldRow.locator('.revoke-token').click();
  await page.waitForSelector('#revoke-confirmation', { timeout: 10_000 });
  assert.match(await page.textContent('#revoke-question'), /^Revoke ‘[^’]*setup wizard[^’]*’\?$/);
  assert.match(await page.textContent('#revoke-consequence'), /last used \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  await expectAccessible(page, 'the revoke confirmation');
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 200, 'nothing revoked before confirming');
  await page.click('#confirm-revoke');
  await page.waitForSelector('#token-table >> text=Revoked', { timeout: 10_000 });
  await page.waitForSelector('#revoke-confirmation', { state: 'detached', timeout: 10_000 });
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 401);
  assert.equal((await scim('GET', `${scimBase}/Users`, newToken)).status, 200);
  // A rotation without overlap: the replaced token stops at once, the new one works.
  const activeRow = page.locator('#token-table tr', { hasText: 'Active' });
  await activeRow.locator('select').selectOption('0');
  // The page comes back with the new token (the forms post as plain forms).
  await Promise.all([page.waitForURL(/\/tokens\?new_token=/, { timeout: 10_000 }), activeRow.locator('.rotate-token').click()]);
  const newestToken = await page.inputValue('#issued-token');
  assert.equal((await scim('GET', `${scimBase}/Users`, newToken)).status, 401);
  assert.equal((await scim('GET', `${scimBase}/Users`, newestToken)).status, 200);
  // Every admin page also works when opened directly (server render, then hydration).
  const directory = scimBase.split('/').pop();
  for (const [path, ready] of [
    ['/admin', '#directory-list'],
    [`/admin/directories/${directory}`, '#users-table'],
    [`/admin/directories/${directory}/tokens`, '#token-table'],
    [`/admin/directories/${directory}/setup/endpoint`, '#scim-base-url'],
    [`/admin/directories/${directory}/setup/token`, '#generate-token'],
    [`/admin/directories/${directory}/setup/mapping`, '#mapping-table'],
    [`/admin/directories/${directory}/setup/test`, '#live-feed'],
  ]) {
    await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
    await page.waitForSelector(ready, { timeout: 10_000 });
    assert.deepEqual(page.errors, [], `${path} logged errors`);
  }

  // The link is used up.
  const again = await openPage(browser);
  await again.goto(link, { waitUntil: 'networkidle' });
  await again.waitForSelector('#setup-link-refused');
  assert.match(await again.textContent('#setup-link-refused'), /used already/);
  await screenshot(again, 'setup-link-used');
  await again.close();
  await page.close();
});

test('a new admin connects Microsoft Entra ID through all five steps', async () => {
  const link = await setupLinkFor(operatorPage, 'globex');
  const page = await acceptSetupLink(browser, link, 'it@globex.example', false);
  const { userNameSource } = await walkWizard(page, 'entra', 'grace@globex.example', /Tenant URL/);
  assert.equal(userNameSource, 'userPrincipalName');
  await page.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  assert.match(await page.textContent('#directory-list'), /Microsoft Entra ID[\s\S]*Connected/);
  // The audit trail shows what happened, filters it, and verifies its chain.
  await page.click('text=Audit trail');
  await page.waitForSelector('#audit-table', { timeout: 10_000 });
  assert.match(await page.textContent('#audit-table'), /directory\.self_test/);
  await page.selectOption('#audit-outcome', 'success');
  await page.waitForURL(/\/admin\/audit\?outcome=success$/, { timeout: 10_000 });
  await page.waitForSelector('#audit-table');
  // Filters apply as you type, match operations by their start, and live in the address.
  await page.fill('#audit-operation', 'directory');
  await page.waitForURL(/operation=directory/, { timeout: 10_000 });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-table tbody tr')];
    return rows.length > 0 && rows.every((row) => row.textContent.includes('directory.'));
  }, null, { timeout: 10_000 });
  await page.fill('#audit-operation', '');
  await page.waitForURL((url) => !url.search.includes('operation='), { timeout: 10_000 });
  // A user is found by email: the records about Grace.
  await page.fill('#audit-resource', 'grace@globex.example');
  await page.waitForURL(/resource=grace%40globex\.example/, { timeout: 10_000 });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-table tbody tr')];
    return rows.length > 0 && rows.every((row) => row.textContent.includes('grace@globex.example'));
  }, null, { timeout: 10_000 });
  const shared = page.url();
  await page.reload({ waitUntil: 'networkidle' });
  await page.waitForSelector('#audit-table', { timeout: 10_000 });
  assert.equal(page.url(), shared, 'the filtered view survives a reload');
  assert.equal(await page.inputValue('#audit-resource'), 'grace@globex.example');
  assert.equal(await page.inputValue('#audit-outcome'), 'success');
  await page.goto(`${baseUrl}/admin/audit?operation=nothing.like.this`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#no-records', { timeout: 10_000 });
  assert.equal(await page.textContent('#no-records'), 'No records match these filters.');
  await expectAccessible(page, 'the audit trail without matches');
  await page.goto(`${baseUrl}/admin/audit`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#audit-table', { timeout: 10_000 });
  await page.click('#verify-chain');
  await page.waitForSelector('#verify-result >> text=Intact', { timeout: 10_000 });
  await screenshot(page, 'audit-trail');
  await expectAccessible(page, 'the audit trail');
  assert.deepEqual(page.errors, [], 'the admin pages logged errors');
  await page.close();
});

test("an admin cannot reach another tenant's directory, by page or by server function", async () => {
  const umbrella = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'umbrella'), 'it@umbrella.example', false);
  await umbrella.click('#connect-idp');
  await umbrella.waitForSelector('#idp-okta');
  await umbrella.check('#idp-okta');
  await umbrella.click('#choose-idp');
  await umbrella.waitForURL(/\/setup\/endpoint$/, { timeout: 10_000 });
  const theirs = umbrella.url().match(/directories\/([0-9a-f-]{36})\//)[1];

  const hooli = await acceptSetupLink(browser, await setupLinkFor(operatorPage, 'hooli'), 'it@hooli.example', false);
  hooli.errors = [];
  await hooli.goto(`${baseUrl}/admin/directories/${theirs}`, { waitUntil: 'networkidle' });
  await hooli.waitForSelector('#dashboard-error');
  assert.match(await hooli.textContent('#dashboard-error'), /no such directory/);
  const call = await hooli.request.post(`${baseUrl}/api/issue_setup_token`, {
    form: { directory: theirs, valid_days: '0' },
    headers: { accept: 'application/json' },
  });
  assert.equal(call.status(), 404);
  await screenshot(hooli, 'other-tenant-refused');
  await umbrella.close();
  await hooli.close();
});

// RFC 4180 CSV (quoted fields may hold commas, doubled quotes and line breaks) as rows of
// fields.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

// Clicks an export link and returns the downloaded file's name and text. Chromium asks for
// gzip and brotli like every browser, so this is the download as people get it.
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click(selector)]);
  assert.equal(await file.failure(), null, `the download of ${selector} failed`);
  const { readFile } = await import('node:fs/promises');
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

test('a refused request turns the token step red with the reason, and only an accepted one green', async () => {
  const link = await setupLinkFor(operatorPage, 'soylent');
  const page = await acceptSetupLink(browser, link, 'it@soylent.example', false);
  const scimBase = await toTokenStep(page, 'entra', /Tenant URL/, 'entra-refused');

  // Before any token of this directory exists, the identity provider tries a wrong one.
  assert.equal((await scim('GET', `${scimBase}/Users`, 'scim_wrongwrongwrongwrongwrongwrongwrongwrongwro')).status, 401);
  await page.waitForSelector('#refused, #connected', { timeout: 15_000 });
  const banner = () => page.$eval('#first-request > *', (shown) => `${shown.id}: ${shown.textContent}`);
  assert.match(await banner(), /^refused: /, 'a refused request must not turn the banner green');
  assert.equal(
    await page.textContent('#refused-reason'),
    'A request arrived but its token was wrong, missing, expired or revoked — paste the token shown here.',
  );
  assert.match(await page.textContent('#refused'), /GET \/scim\/v2\/[0-9a-f-]{36}\/Users → 401/);
  await screenshot(page, 'entra-step-3-refused');
  await expectAccessible(page, 'step 3 with a refused request');

  // The token shown here: accepted, and now the banner is green.
  await page.click('#generate-token');
  await page.waitForSelector('#new-token', { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  assert.equal((await scim('GET', `${scimBase}/Users?filter=userName%20eq%20%22nobody%22`, token)).status, 200);
  await page.waitForSelector('#connected', { timeout: 15_000 });
  assert.match(await banner(), /^connected: .*GET \/scim\/v2\/[0-9a-f-]{36}\/Users\?filter=.* → 200/);
  await screenshot(page, 'entra-step-3-connected');
  await expectAccessible(page, 'step 3 connected');
  assert.deepEqual(page.errors, [], 'the pages logged errors');
  await page.close();
});

test('"Export CSV" and "Export JSON Lines" download the whole audit trail in Chromium', async () => {
  const link = await setupLinkFor(operatorPage, 'vandelay');
  const page = await acceptSetupLink(browser, link, 'it@vandelay.example', false);
  const scimBase = await toTokenStep(page, 'okta', /SCIM connector base URL/, 'okta-exports');
  await page.click('#generate-token');
  await page.waitForSelector('#new-token', { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  assert.equal((await scim('GET', `${scimBase}/Users`, 'scim_wrongwrongwrongwrongwrongwrongwrongwrongwro')).status, 401);
  assert.equal((await scim('GET', `${scimBase}/Users`, token)).status, 200);
  await page.waitForSelector('#connected', { timeout: 15_000 });

  await page.goto(`${baseUrl}/admin/audit`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#audit-table', { timeout: 10_000 });
  await expectAccessible(page, 'the audit trail');
  // What the server sends without compression, to compare the downloads with.
  const uncompressed = async (selector) => {
    const href = await page.getAttribute(selector, 'href');
    const response = await page.request.get(`${baseUrl}${href}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(response.status(), 200);
    return response.text();
  };

  const csv = await download(page, '#export-csv');
  assert.equal(csv.name, 'audit-trail.csv');
  const rows = parseCsv(csv.text);
  assert.deepEqual(rows[0].slice(0, 4), ['seq', 'occurred_at', 'actor', 'action']);
  const seqs = rows.slice(1).map((row) => Number(row[0]));
  // The whole trail, newest first: every record from the newest down to the first.
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs.length - i));
  const requests = rows.slice(1).map((row) => `${row[5]} ${row[6]} ${row[7]}`);
  assert.ok(requests.some((r) => /^GET \/scim\/v2\/[0-9a-f-]{36}\/Users 401$/.test(r)), requests.join('\n'));
  assert.ok(requests.some((r) => /^GET \/scim\/v2\/[0-9a-f-]{36}\/Users 200$/.test(r)), requests.join('\n'));
  assert.equal(csv.text, await uncompressed('#export-csv'));

  const jsonl = await download(page, '#export-jsonl');
  assert.equal(jsonl.name, 'audit-trail.jsonl');
  const records = jsonl.text.trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(records.map((record) => record.seq), seqs);
  assert.ok(records.some((record) => record.action === 'token.issued'), jsonl.text);
  assert.equal(jsonl.text, await uncompressed('#export-jsonl'));
  await screenshot(page, 'audit-trail-exported');
  assert.deepEqual(page.errors, [], 'the pages logged errors');
  await page.close();
});
