// A customer admin sets up a directory and reads its dashboard with the portal's bundle held
// back for the whole visit: every page is rendered on the server and every form is a plain
// HTML form (issue 21, on the way to islands). The token is shown once on the page the form
// came back to, the identity provider's first request shows once the page is read again,
// the mapping and the self-test work, and the dashboard's tables, chart and a user's
// suspension work by addresses and plain forms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptSetupLink, baseUrl, launchBrowser, operatorApi, scim, screenshot, seriousAccessibilityViolations,
} from '../support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Submits by clicking `selector` and waits for the page the server sends the browser to.
async function submit(page, selector, url) {
  await Promise.all([page.waitForURL(url, { timeout: 15_000 }), page.click(selector)]);
}

test('the wizard and the dashboard work without the bundle', async () => {
  await operatorApi('POST', '/api/v1/tenants', { slug: 'pendant', display_name: 'Pendant Publishing' });
  const link = (await operatorApi('POST', '/api/v1/tenants/pendant/setup-links', {})).url;
  const page = await acceptSetupLink(browser, link, 'it@pendant.example');

  // From here on, every request for the bundle's wasm is held: never answered, never failed.
  const held = [];
  await page.route('**/*.wasm', (route) => { held.push(route.request().url()); });

  // Step 1 and 2: the identity provider, then the endpoint.
  await page.goto(`${baseUrl}/admin/connect`, { waitUntil: 'load' });
  await page.check('#idp-okta');
  await submit(page, '#choose-idp', /\/setup\/endpoint$/);
  const scimBase = await page.inputValue('#scim-base-url');
  assert.match(scimBase, /\/scim\/v2\/[0-9a-f-]{36}$/);
  const directory = scimBase.split('/').pop();
  await submit(page, '#next-step', /\/setup\/token$/);

  // Step 3: the token, shown once on the page the form came back to.
  await submit(page, '#generate-token', /\/setup\/token\?new_token=/);
  const token = await page.inputValue('#new-token');
  assert.match(token, /^scim_/);
  assert.ok(!page.url().includes(token), 'the address does not carry the token');
  assert.ok(await page.isVisible('#waiting'));
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of the token step');
  const created = await scim('POST', `${scimBase}/Users`, token, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'elaine@pendant.example', active: true,
    emails: [{ value: 'elaine@pendant.example', type: 'work', primary: true }],
  });
  assert.equal(created.status, 201, created.body);
  const elaine = JSON.parse(created.body).id;
  // Without the bundle nothing reads the request stream: the page says so once read again.
  let connected = false;
  for (let attempt = 0; attempt < 20 && !connected; attempt += 1) {
    await page.goto(`${baseUrl}/admin/directories/${directory}/setup/token`, { waitUntil: 'load' });
    connected = (await page.locator('#connected').count()) > 0;
  }
  assert.ok(connected, 'the first request did not show');
  assert.equal(await page.locator('#new-token').count(), 0, 'the token is shown once');

  // Step 4: the mapping, saved.
  await submit(page, '#next-step', /\/setup\/mapping$/);
  await submit(page, '#save-mapping', /\/setup\/mapping\?mapping=saved$/);
  assert.match(await page.textContent('#mapping-saved'), /Mapping saved/);

  // Step 5 (when the operator defined roles) and 6: the self-test, its report once.
  await Promise.all([page.waitForURL(/\/setup\/(roles|test)$/), page.click('#next-step')]);
  if (page.url().endsWith('/roles')) await submit(page, '#next-step', /\/setup\/test$/);
  await submit(page, '#run-self-test', /\/setup\/test\?self_test=/);
  const outcomes = await page.$$eval('#self-test-steps li', (items) => items.map((item) => item.textContent));
  assert.equal(outcomes.length, 10, outcomes.join('\n'));
  for (const outcome of outcomes) assert.match(outcome, /^Passed/, outcome);
  await page.waitForSelector('#setup-complete');
  await screenshot(page, 'wizard-without-bundle-test');
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of the test step');

  // The dashboard: the chart's period and the users' search are addresses of the page.
  await submit(page, '#open-dashboard', new RegExp(`/admin/directories/${directory}$`));
  assert.match(await page.textContent('#users-table'), /elaine@pendant\.example/);
  await submit(page, '#chart-week', /\?chart=week$/);
  assert.match(await page.textContent('#chart-caption'), /over the last 7 days/);
  await page.fill('#users-search', 'nobody');
  await submit(page, 'form[role=search]:has(#users-search) button', /users_search=nobody/);
  assert.equal(await page.textContent('#users-count'), 'None');
  assert.ok(page.url().includes('chart=week'), 'the search kept the chart period');

  // A user's page: suspending without a reason is refused in words, then done.
  await page.goto(`${baseUrl}/admin/directories/${directory}/users/${elaine}`, { waitUntil: 'load' });
  await submit(page, '#suspend-user', /__err=/);
  assert.match(await page.textContent('#suspension-error'), /Say why the user is suspended/);
  await page.fill('#suspension-reason', 'Laptop left on a train');
  await submit(page, '#suspend-user', new RegExp(`/users/${elaine}$`));
  assert.match(await page.textContent('#suspension-state'), /Suspended since .* Laptop left on a train/);
  assert.deepEqual(await seriousAccessibilityViolations(page), [], 'accessibility of a suspended user');

  assert.ok(held.length >= 10, `the bundle was asked for on each page: ${held.length}`);
  // The held requests are cut as each page is left; nothing else may fail.
  const errors = page.errors.filter((error) => !/^failed: .*\/portal_bg\.wasm$/.test(error));
  assert.deepEqual(errors, [], 'the console logged errors');
  await page.context().close();
});
