import type { Page } from 'playwright-core';
export default async (page: Page, UI: string) => {
  await page.goto(`${UI}/namespaces/default/workflows/fx-1`);
  await page.getByRole('heading', { name: 'fx-1' }).first().waitFor();
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send an Update' });
  await dialog.getByRole('button', { name: 'Select an Update' }).click();
  await page.waitForTimeout(1000);
  await page.screenshot({ path: '/tmp/uiexp/update2.png' });
  console.log(await dialog.ariaSnapshot());
  console.log(await dialog.innerHTML().then((h) => h.slice(0, 6000)));
};
