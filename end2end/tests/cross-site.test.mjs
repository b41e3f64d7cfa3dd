// Cross-site request forgery: a page on another site (here a local server on another port,
// which Chromium counts as the same site but another origin, the case SameSite cookies do
// not cover) submits a sign-in form to the portal with an attacker's credentials, so that
// the victim would work in the attacker's account (login CSRF). The portal refuses it with
// a readable page and the victim's browser is not signed in. (The portal's own form, with
// the same credentials, signs in: every other browser test.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { baseUrl, launchBrowser, openPage, operatorEmail, operatorPassword } from '../support.mjs';

let browser;
let attacker;
let attackerUrl;
before(async () => {
  browser = await launchBrowser();
  const form = `<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
    <form id="forged" method="post" action="${baseUrl}/api/sign_in">
      <input type="hidden" name="email" value="${operatorEmail}">
      <input type="hidden" name="password" value="${operatorPassword}">
    </form>
    <script>document.getElementById('forged').submit();</script></body></html>`;
  attacker = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(form);
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${attacker.address().port}/`;
});
after(async () => {
  await browser?.close();
  attacker?.close();
});

test('a sign-in forged by another site is refused and signs nobody in', async () => {
  const victim = await openPage(browser);
  const refused = victim.waitForResponse((response) => response.url() === `${baseUrl}/api/sign_in`);
  await victim.goto(attackerUrl);
  const answer = await refused;
  assert.equal(answer.status(), 403);
  await victim.waitForLoadState('load');
  assert.match(await victim.textContent('body'), /This request came from another site and was refused/);

  // Not signed in: the operator console sends the victim to sign in.
  await victim.goto(`${baseUrl}/tenants`, { waitUntil: 'networkidle' });
  await victim.waitForSelector('#sign-in', { timeout: 10_000 });
  const cookies = await victim.context().cookies(baseUrl);
  assert.equal(cookies.filter((cookie) => cookie.name.toLowerCase().includes('session') || cookie.name === 'id').length, 0,
    JSON.stringify(cookies));
  // The refusal is the only failed request.
  assert.deepEqual(victim.errors, [`403 ${baseUrl}/api/sign_in`]);
});
