import type { Page } from 'playwright-core';
export default async (page: Page, UI: string) => {
  await page.goto(`${UI}/namespaces/default/workflows/fx-1`);
  await page.getByRole('heading', { name: 'fx-1' }).first().waitFor();
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/uiexp/more.png' });
  console.log(await page.getByRole('menu').ariaSnapshot().catch((e) => String(e)));
  await page.keyboard.press('Escape');
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: '/tmp/uiexp/meta.png', fullPage: true });
  const snap = await page.locator('main').ariaSnapshot();
  console.log(snap.slice(snap.indexOf('tablist'), snap.indexOf('tablist') + 4000));
};
