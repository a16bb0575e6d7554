import type { Page } from 'playwright-core';
export default async (page: Page, UI: string) => {
  await page.goto(`${UI}/namespaces/default/workflows/fx-3`);
  await page.getByRole('heading', { name: 'fx-3' }).first().waitFor();
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send an Update' });
  await dialog.getByRole('button', { name: 'Select an Update' }).click();
  await dialog.getByRole('option', { name: 'Custom', exact: true }).click();
  await page.waitForTimeout(500);
  console.log(await dialog.ariaSnapshot());
  await page.screenshot({ path: '/tmp/uiexp/custom.png' });
  await dialog.getByRole('button', { name: 'Cancel' }).last().click();
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
  await page.waitForTimeout(800);
  console.log(await page.getByRole('dialog').filter({ visible: true }).ariaSnapshot());
  await page.screenshot({ path: '/tmp/uiexp/signal.png' });
};
