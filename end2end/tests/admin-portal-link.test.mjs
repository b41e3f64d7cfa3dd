// "Set up SCIM" from the vendor's own settings page: the vendor's product, written against
// the official WorkOS Node SDK (unmodified, pinned in package-lock.json), asks for an Admin
// Portal link with `workos.adminPortal.generateLink`; its customer's IT admin, whom the
// product has already signed in, opens the link in Chromium and lands signed in in the
// tenant's setup wizard, with no password to choose; they take the wizard to the end
// (an identity provider's first request, the mapping, the self-test) and "Return to" the
// vendor's success URL, served here by a small local HTTP server. The link works once.
// Needs an operator API key of the server under test (E2E_API_KEY, which the xtask makes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WorkOS, NotFoundException, UnprocessableEntityException } from '@workos-inc/node';
import { baseUrl, expectAccessible, launchBrowser, openPage, screenshot } from '../support.mjs';

const apiKey = process.env.E2E_API_KEY ?? '';
const server = new URL(baseUrl);
const workos = new WorkOS(apiKey, { apiHostname: server.hostname, port: Number(server.port), https: false });
const slug = `portal-${Date.now().toString(36)}`;

let browser;
// The vendor's product: its settings page, and the requests the browser made to it.
let vendor;
const vendorVisits = [];

before(async () => {
  assert.ok(apiKey, 'E2E_API_KEY is not set');
  const created = await fetch(`${baseUrl}/api/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug, display_name: 'Portal Corp' }),
  });
  assert.equal(created.status, 201, await created.text());
  vendor = http.createServer((request, response) => {
    vendorVisits.push(request.url);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><html lang="en"><head><title>Vendor settings</title></head>'
        + '<body><main><h1 id="vendor-settings">Vendor settings</h1></main></body></html>',
    );
  });
  await new Promise((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  vendor.url = `http://127.0.0.1:${vendor.address().port}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (vendor ? vendor.close(resolve) : resolve()));
});

async function scim(method, url, token, body) {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

test('the SDK refuses other intents and unknown organizations with its own exceptions', async () => {
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  await assert.rejects(
    workos.adminPortal.generateLink({ organization: organization.id, intent: 'sso', returnUrl: `${vendor.url}/x` }),
    (error) => error instanceof UnprocessableEntityException,
  );
  await assert.rejects(
    workos.adminPortal.generateLink({ organization: 'org_00000000000000000000000000000000', intent: 'dsync' }),
    (error) => error instanceof NotFoundException,
  );
});

test("an admin the vendor signed in opens the SDK's link, finishes the wizard and returns to the vendor", async () => {
  const organization = await workos.organizations.getOrganizationByExternalId(slug);
  const returnUrl = `${vendor.url}/settings/scim`;
  const successUrl = `${vendor.url}/settings/scim?connected=1`;
  const { link } = await workos.adminPortal.generateLink({
    organization: organization.id,
    intent: 'dsync',
    returnUrl,
    successUrl,
    externalUserId: 'vendor-user-7',
  });
  assert.match(link, new RegExp(`^${baseUrl}/portal-link/plink_[A-Za-z0-9_-]{43}$`));

  const page = await openPage(browser);
  await page.goto(link, { waitUntil: 'networkidle' });
  // Straight into step 1, signed in as the person the vendor named.
  assert.equal(page.url(), `${baseUrl}/admin/connect`);
  await page.waitForSelector('#idp-okta');
  assert.equal(await page.textContent('#signed-in-as'), 'vendor-user-7');
  assert.equal(await page.getAttribute('#return-to-vendor', 'href'), returnUrl);
  assert.match(await page.textContent('#return-to-vendor'), /Back to 127\.0\.0\.1/);
  await screenshot(page, 'portal-link-step-1');
  await expectAccessible(page, 'step 1 opened through an Admin Portal link');

  await page.check('#idp-okta');
  await page.click('#choose-idp');
  await page.waitForURL(/\/setup\/endpoint$/, { timeout: 10_000 });
  await page.waitForSelector('#scim-base-url');
  const scimBase = await page.inputValue('#scim-base-url');
  await page.click('#next-step');
  await page.waitForURL(/\/setup\/token$/);
  await page.waitForSelector('#waiting', { timeout: 10_000 });
  await page.waitForLoadState('networkidle');
  await page.click('#generate-token');
  await page.waitForSelector('#new-token', { timeout: 10_000 });
  const token = await page.inputValue('#new-token');
  // The identity provider's first request.
  const created = await scim('POST', `${scimBase}/Users`, token, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'ada@portal.example',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: 'ada@portal.example', type: 'work', primary: true }],
    active: true,
  });
  assert.equal(created.status, 201, created.body);
  await page.waitForSelector('#connected', { timeout: 15_000 });
  await page.click('#next-step');
  await page.waitForURL(/\/setup\/mapping$/);
  await page.waitForSelector('#mapping-table');
  await page.click('#save-mapping');
  await page.waitForSelector('#mapping-saved', { timeout: 10_000 });
  await page.click('#next-step');

  await page.waitForURL(/\/setup\/test$/);
  await page.waitForSelector('#live-feed', { timeout: 10_000 });
  await page.waitForSelector('#setup-complete', { timeout: 10_000 });
  await page.click('#run-self-test');
  await page.waitForSelector('#self-test-steps', { timeout: 30_000 });
  const outcomes = await page.$$eval('#self-test-steps li', (items) => items.map((item) => item.textContent));
  assert.equal(outcomes.length, 10, outcomes.join('\n'));
  for (const outcome of outcomes) assert.match(outcome, /^Passed/, outcome);
  // The self-test's last request reaches the live feed: nothing more is on its way.
  await page.waitForSelector('#live-feed >> text=404', { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getAttribute('#return-to-vendor-success', 'href'), successUrl);
  assert.match(await page.textContent('#return-to-vendor-success'), /^Return to 127\.0\.0\.1$/);
  await screenshot(page, 'portal-link-setup-complete');
  await expectAccessible(page, 'step 5 of a wizard opened through an Admin Portal link');
  assert.deepEqual(page.errors, [], 'the wizard logged errors');

  await page.click('#return-to-vendor-success');
  await page.waitForURL(successUrl, { timeout: 10_000 });
  await page.waitForSelector('#vendor-settings');
  assert.ok(vendorVisits.includes('/settings/scim?connected=1'), vendorVisits.join('\n'));
  // The directory the admin set up is linked, as the vendor's product now reads it.
  const directories = await workos.directorySync.listDirectories({ organizationId: organization.id });
  assert.deepEqual(directories.data.map((directory) => directory.state), ['active']);
  await page.close();

  // The link worked once.
  const again = await openPage(browser);
  await again.goto(link, { waitUntil: 'networkidle' });
  await again.waitForSelector('#portal-link-refused');
  assert.match(await again.textContent('#portal-link-refused'), /used already/);
  await screenshot(again, 'portal-link-used');
  await expectAccessible(again, 'the page of a used Admin Portal link');
  await again.close();
});
