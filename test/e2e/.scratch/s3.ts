import type { Page } from 'playwright-core';
export default async (page: Page, UI: string) => {
  await page.goto(`${UI}/namespaces/default/workflows/fx-1`);
  await page.getByRole('heading', { name: 'fx-1' }).first().waitFor();
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  await page.waitForTimeout(2000);
  await page.screenshot({ path: '/tmp/uiexp/update1.png' });
  console.log(await page.getByRole('dialog').ariaSnapshot().catch((e) => String(e)));
};
