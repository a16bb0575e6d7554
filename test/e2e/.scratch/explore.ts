import { chromium, type Page } from 'playwright-core';
const UI = 'http://127.0.0.1:18233';
async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
  try {
    const steps = (await import(process.argv[2]!)).default as (page: Page, UI: string) => Promise<void>;
    await steps(page, UI);
  } catch (e) { console.log('ERROR', e); await page.screenshot({ path: '/tmp/uiexp/error.png', fullPage: true }); }
  await browser.close();
}
main();
