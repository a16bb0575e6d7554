import type { Page } from 'playwright-core';
export default async (page: Page, UI: string) => {
  const t = Date.now();
  await page.goto(`${UI}/namespaces/default/workflows/fx-1`);
  await page.getByRole('heading', { name: 'fx-1' }).first().waitFor();
  console.log('heading', Date.now() - t);
  await page.waitForTimeout(2000);
  await page.screenshot({ path: '/tmp/uiexp/wf.png', fullPage: true });
  console.log((await page.locator('main').ariaSnapshot()).slice(0, 10000));
};
