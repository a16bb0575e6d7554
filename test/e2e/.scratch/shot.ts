import { chromium } from 'playwright-core';
async function main() {
  const url = process.argv[2]!;
  const out = process.argv[3]!;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
  const t = Date.now();
  await page.goto(url, { waitUntil: 'networkidle' });
  console.log('loaded', Date.now() - t);
  await page.screenshot({ path: out, fullPage: true });
  const roles = await page.locator('body').ariaSnapshot();
  console.log(roles.slice(0, 8000));
  await browser.close();
}
main();
