// Shared helpers for the browser tests: one headless Chromium per test file, screenshots
// into ARTIFACTS_DIR, and an axe-core accessibility check.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
// The first operator of the deployment under test (cargo xtask test sets both).
export const operatorEmail = process.env.E2E_OPERATOR_EMAIL ?? 'operator@localhost';
export const operatorPassword = process.env.E2E_OPERATOR_PASSWORD ?? '';
const artifactsDir = process.env.ARTIFACTS_DIR ?? 'artifacts';

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
  page.on('requestfailed', (request) => {
    // A live event stream is cut when the page leaves: that is its normal end.
    const streamClosed = request.resourceType() === 'eventsource' && request.failure()?.errorText === 'net::ERR_ABORTED';
    if (!streamClosed) page.errors.push(`failed: ${request.url()}`);
  });
  return page;
}

export async function screenshot(page, name) {
  const dir = path.join(artifactsDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

// Runs axe-core in the page and returns the violations rated serious or critical.
export async function seriousAccessibilityViolations(page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

// Fills in and submits the sign-in form (it does not wait for the outcome).
export async function submitSignIn(page, password = operatorPassword) {
  await page.goto(`${baseUrl}/sign-in`, { waitUntil: 'networkidle' });
  await page.fill('#email', operatorEmail);
  await page.fill('#password', password);
  await page.click('#sign-in');
}
