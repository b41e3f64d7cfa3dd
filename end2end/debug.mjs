import { launchBrowser, openPage, baseUrl } from './support.mjs';
const browser = await launchBrowser();
const page = await openPage(browser);
await page.goto(`${baseUrl}/sign-in`, { waitUntil: 'networkidle' });
await page.fill('#email', 'it@initech.example');
await page.fill('#password', 'correct horse battery staple');
await page.click('#sign-in');
await page.waitForURL(`${baseUrl}/admin`);
await page.waitForTimeout(1000);
const href = await page.getAttribute('#directory-list a', 'href');
for (const path of ['/admin', href, `${href}/tokens`, `${href}/setup/endpoint`, `${href}/setup/token`, `${href}/setup/mapping`, `${href}/setup/test`]) {
  page.errors = [];
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  await page.waitForTimeout(1500);
  console.log(path, page.errors.length ? page.errors.map(e => e.slice(0, 120)) : 'ok');
}
await browser.close();
