// Shared helpers for the browser tests: one headless Chromium per test file, screenshots
// into ARTIFACTS_DIR, and an axe-core accessibility check.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);

export const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
// The first operator of the deployment under test (cargo xtask test sets both).
export const operatorEmail = process.env.E2E_OPERATOR_EMAIL ?? 'operator@localhost';
export const operatorPassword = process.env.E2E_OPERATOR_PASSWORD ?? '';
const artifactsDir = process.env.ARTIFACTS_DIR ?? 'artifacts';
// An operator API key of the server under test (cargo xtask test makes one).
export const apiKey = process.env.E2E_API_KEY ?? '';

// A call of the operator API with that key; it must succeed. Answers its JSON (null for
// an empty body).
export async function operatorApi(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// The machines that run these tests reach no network but package registries: the flags
// keep Chromium from trying to reach Google's services at every start.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// A new page that records uncaught errors and console errors, so a test can assert that
// the wasm bundle loaded and hydrated without complaint.
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Every Content-Security-Policy violation is an error of the page: the portal's policy
  // must let the hydrated app work with nothing refused. (Chromium also logs most of them
  // to the console; the event catches those it does not, such as a blocked style.)
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
    });
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(String(error)));
  page.on('console', (message) => {
    // Failed loads are reported below with their address.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      page.errors.push(message.text());
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) page.errors.push(`${response.status()} ${response.url()}`);
  });
  // Which navigation each request belongs to: one the page was still making when it left
  // (a poll of a live page, by `goto` or by a link the router follows) is cut by the
  // browser, which is the page's normal end, not a failed request.
  let navigations = 0;
  // While `goto` or `reload` runs, the page being left can still start a poll (after the
  // call, before it unloads): cut by the browser too, so also not a failure.
  let leaving = 0;
  const navigationOf = new WeakMap();
  for (const name of ['goto', 'reload']) {
    const navigate = page[name].bind(page);
    page[name] = async (...args) => {
      navigations += 1;
      leaving += 1;
      try {
        return await navigate(...args);
      } finally {
        leaving -= 1;
      }
    };
  }
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  page.on('request', (request) => {
    // The page starts to leave when its navigation's request starts (a link, a form, the
    // address bar): what it had on its way then is left behind, even if Chromium reports
    // the cut before the new document arrives.
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) navigations += 1;
    navigationOf.set(request, navigations);
  });
  page.on('requestfailed', (request) => {
    const aborted = request.failure()?.errorText === 'net::ERR_ABORTED';
    const leftBehind = aborted && ((navigationOf.get(request) ?? navigations) < navigations || leaving > 0);
    // A live event stream is cut when the page leaves: that is its normal end.
    const streamClosed = (request.resourceType() === 'eventsource' && aborted) || leftBehind;
    // Chromium fetches the icon again after each in-page navigation and drops a fetch
    // still running when the next navigation starts (seen once in a run of the suite):
    // the browser's own housekeeping, not a request of the portal's.
    const iconDropped = new URL(request.url()).pathname === '/favicon.svg' && aborted;
    if (!streamClosed && !iconDropped) page.errors.push(`failed: ${request.url()}`);
  });
  return page;
}

export async function screenshot(page, name) {
  const dir = path.join(artifactsDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

let axeScript;
function axeSource() {
  axeScript ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeScript;
}

// Runs axe-core in the page and returns the violations rated serious or critical.
export async function seriousAccessibilityViolations(page) {
  // Evaluated by the test driver, not added as a <script>: the page's policy refuses
  // inline scripts without its nonce, as it should.
  await page.evaluate(axeSource());
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

// Fills in and submits the sign-in form (it does not wait for the outcome).
// A page signed in as the deployment's operator (one per test file: sign-in attempts per
// account are throttled).
export async function signedInOperator(browser) {
  const page = await openPage(browser);
  await submitSignIn(page);
  await page.waitForSelector('#signed-in-as', { timeout: 10_000 });
  return page;
}

// The server allows an account a burst of five sign-in attempts, then one every 12 s: the
// suite signs the operator in five times at most, so no test depends on how long the tests
// before it took.
export async function submitSignIn(page, password = operatorPassword, email = operatorEmail) {
  await page.goto(`${baseUrl}/sign-in`, { waitUntil: 'networkidle' });
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#sign-in');
}

export const adminPassword = 'correct horse battery staple';

export async function expectAccessible(page, what) {
  await page.waitForLoadState('networkidle');
  assert.deepEqual(await seriousAccessibilityViolations(page), [], `accessibility of ${what}`);
}

// The operator creates tenant `slug` and a setup link for it; returns the link.
export async function setupLinkFor(operatorPage, slug) {
  const page = operatorPage;
  await page.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  await page.fill('#tenant-slug', slug);
  await page.fill('#tenant-display-name', `${slug} Corporation`);
  await page.click('#create-tenant');
  await page.waitForURL(`${baseUrl}/tenants/${slug}`, { timeout: 10_000 });
  await page.waitForSelector('#create-setup-link');
  await page.waitForLoadState('networkidle');
  await page.click('#create-setup-link');
  await page.waitForSelector('#setup-link', { timeout: 10_000 });
  const link = await page.inputValue('#setup-link');
  assert.match(link, new RegExp(`^${baseUrl}/setup/setup_[A-Za-z0-9_-]{43}$`));
  await screenshot(page, `operator-setup-link-${slug}`);
  assert.deepEqual(page.errors, [], 'the console logged errors');
  return link;
}

// A new admin opens the setup link and creates their account; returns their page.
export async function acceptSetupLink(browser, link, email, shots) {
  const page = await openPage(browser);
  await page.goto(link, { waitUntil: 'networkidle' });
  await page.waitForSelector('#create-account');
  if (shots) {
    await screenshot(page, 'setup-link-account');
    await expectAccessible(page, 'the setup link page');
  }
  await page.fill('#admin-email', email);
  await page.fill('#admin-password', adminPassword);
  await page.fill('#admin-password-again', adminPassword);
  await page.click('#create-account');
  // The tenant has no directory yet: the admin lands in the setup wizard the link promised.
  await page.waitForURL(`${baseUrl}/admin/connect`, { timeout: 10_000 });
  await page.waitForSelector('#idp-okta');
  await page.goto(`${baseUrl}/admin`, { waitUntil: 'networkidle' });
  await page.waitForSelector('#connect-idp');
  return page;
}

// The admin connects an Okta directory as far as its first token; returns the SCIM base and token.
export async function directoryWithToken(admin) {
  await admin.click('#connect-idp');
  await admin.waitForURL(`${baseUrl}/admin/connect`);
  await admin.check('#idp-okta');
  await admin.click('#choose-idp');
  await admin.waitForURL(/\/setup\/endpoint$/, { timeout: 10_000 });
  await admin.waitForSelector('#scim-base-url');
  const scimBase = await admin.inputValue('#scim-base-url');
  await admin.click('#next-step');
  await admin.waitForURL(/\/setup\/token$/);
  await admin.waitForSelector('#waiting', { timeout: 10_000 });
  await admin.waitForLoadState('networkidle');
  await admin.click('#generate-token');
  await admin.waitForSelector('#new-token', { timeout: 10_000 });
  return { scimBase, token: await admin.inputValue('#new-token') };
}

// A SCIM request with a bearer token, as an identity provider sends it; the answer's status
// and body (text).
export async function scim(method, url, token, body) {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}
