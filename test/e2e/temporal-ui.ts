import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';

/**
 * Drives the Temporal Web UI (checked against UI v2.42.1, the one `temporal server start-dev`
 * v1.5.1 serves) the way an on-call engineer does: list runs by a visibility query, open one,
 * read its User Metadata, and send an Update or a Signal from the workflow page's
 * "More Actions" menu. Nothing here calls the Temporal API directly; where a helper looks at
 * an HTTP response, it is the one the UI itself made, read to return the Update's result.
 *
 * Selectors are roles and visible text wherever the UI provides them; the two exceptions are
 * named where they are used (the raw-query toggle has no accessible name; the JSON editor is a
 * CodeMirror contenteditable without a label).
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export interface ChromiumSession {
  context: BrowserContext;
  /** A first page, ready to use. */
  page: Page;
  /** Closes the browser and removes its user data directory. */
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh user data directory (no saved UI settings or views). */
export async function launchChromium(options: { executablePath?: string; viewport?: { width: number; height: number } } = {}): Promise<ChromiumSession> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'temporal-ui-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      // Wide enough that the workflow page shows its desktop layout (header actions, tabs).
      viewport: options.viewport ?? { width: 1400, height: 1000 },
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workflow list

export interface UiWorkflowRow {
  workflowId: string;
  runId: string;
  type: string;
  /** As the list shows it: "Running", "Completed", … */
  status: string;
}

export interface FindWorkflowsOptions {
  /**
   * 'url' opens `/namespaces/<ns>/workflows?query=…` (what a shared link does); 'queryBox' opens
   * the list and types the query into the UI's raw query box. Default 'url'.
   */
  via?: 'url' | 'queryBox';
  /**
   * Visibility is eventually consistent: the list is re-queried until this returns true (for
   * example `(rows) => rows.some((r) => r.workflowId === id)`) or `timeoutMs` passes, and the
   * last rows are returned either way. Without it, the first answer is returned.
   */
  until?: (rows: UiWorkflowRow[]) => boolean;
  timeoutMs?: number;
}

export function workflowsListUrl(uiUrl: string, namespace: string, query?: string): string {
  const base = `${trimSlash(uiUrl)}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return query ? `${base}?query=${encodeURIComponent(query)}` : base;
}

/**
 * Lists the runs the Workflows page shows for a visibility query such as
 * `RetrainAwaitingApproval = true AND RetrainModel = "flight-delay"` (first page, up to 100).
 * Leaves the page on the filtered list, so a row can be clicked next (see openWorkflowFromList).
 */
export async function listWorkflowsByQuery(
  page: Page,
  uiUrl: string,
  namespace: string,
  query: string,
  options: FindWorkflowsOptions = {},
): Promise<UiWorkflowRow[]> {
  const { via = 'url', until, timeoutMs = 20_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 0; ; attempt++) {
    const rows = via === 'url' ? await queryViaUrl(page, uiUrl, namespace, query) : await queryViaBox(page, uiUrl, namespace, query, attempt === 0);
    if (!until || until(rows) || Date.now() + delay > deadline) return rows;
    await page.waitForTimeout(delay); // polling the eventually consistent list: nothing on the page to wait for
    delay = Math.min(delay * 2, 2_000);
  }
}

/** The workflow ids listWorkflowsByQuery finds, in the order the UI shows them (newest first). */
export async function findWorkflowsByQuery(
  page: Page,
  uiUrl: string,
  namespace: string,
  query: string,
  options: FindWorkflowsOptions = {},
): Promise<string[]> {
  return (await listWorkflowsByQuery(page, uiUrl, namespace, query, options)).map((row) => row.workflowId);
}

async function queryViaUrl(page: Page, uiUrl: string, namespace: string, query: string): Promise<UiWorkflowRow[]> {
  const listed = waitForListResponse(page, query);
  await page.goto(workflowsListUrl(uiUrl, namespace, query));
  return readListAnswer(page, await listed);
}

async function queryViaBox(page: Page, uiUrl: string, namespace: string, query: string, navigate: boolean): Promise<UiWorkflowRow[]> {
  const box = page.getByRole('searchbox', { name: 'Enter a query' });
  if (navigate || !(await box.isVisible())) {
    await page.goto(workflowsListUrl(uiUrl, namespace));
    await page.getByRole('table', { name: 'Workflows' }).waitFor();
    if (!(await box.isVisible())) {
      // The "</>" toggle next to "Add Filter" has no accessible name, only this test id.
      await page.getByTestId('toggle-manual-query').click();
    }
  }
  await box.fill(query);
  const listed = waitForListResponse(page, query);
  await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
  return readListAnswer(page, await listed);
}

/** The UI's own request for the list (the UI may respace the query, so spaces are ignored). */
function waitForListResponse(page: Page, query: string): Promise<Response> {
  const squeeze = (q: string | null) => (q ?? '').replace(/\s+/g, '');
  return page.waitForResponse(
    (response) => {
      const url = new URL(response.url());
      return /\/api\/v1\/namespaces\/[^/]+\/workflows$/.test(url.pathname) && squeeze(url.searchParams.get('query')) === squeeze(query);
    },
    { timeout: 15_000 },
  );
}

/**
 * Reads the table once it shows the answer to the UI's request: right after the response the
 * page may still show the previous list (e.g. the unfiltered one before a search), so the
 * table is re-read until its ids are the answer's ids.
 */
async function readListAnswer(page: Page, response: Response): Promise<UiWorkflowRow[]> {
  const body = (await response.json().catch(() => undefined)) as { executions?: { execution?: { workflowId?: string } }[] } | undefined;
  const answered = body?.executions?.map((e) => e.execution?.workflowId ?? '');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await readWorkflowTable(page);
    const shown = rows.map((row) => row.workflowId);
    if (!answered || (shown.length === answered.length && shown.every((id, i) => id === answered[i])) || Date.now() > deadline) return rows;
    await page.waitForTimeout(100); // a re-render, not a timer: nothing more specific to wait for
  }
}

async function readWorkflowTable(page: Page): Promise<UiWorkflowRow[]> {
  const table = page.getByRole('table', { name: 'Workflows' });
  const body = table.getByRole('rowgroup').nth(1);
  // Either rows with links, or the empty state.
  await body.getByRole('link').first().or(page.getByRole('heading', { name: 'No Results' })).waitFor();
  if (await page.getByRole('heading', { name: 'No Results' }).isVisible()) return [];
  const headers = (await table.getByRole('rowgroup').first().getByRole('columnheader').allInnerTexts()).map((h) => h.trim());
  const column = (name: string): number => {
    const index = headers.indexOf(name);
    if (index < 0) throw new Error(`Workflows table has no "${name}" column (columns: ${headers.filter(Boolean).join(', ')})`);
    return index;
  };
  const [idCol, runCol, typeCol, statusCol] = [column('Workflow ID'), column('Run ID'), column('Type'), column('Status')];
  const rows: UiWorkflowRow[] = [];
  for (const row of await body.getByRole('row').all()) {
    const cells = (await row.getByRole('cell').allInnerTexts()).map((c) => c.trim());
    rows.push({ workflowId: cells[idCol]!, runId: cells[runCol]!, type: cells[typeCol]!, status: cells[statusCol]! });
  }
  return rows;
}

/** Clicks a run's Workflow ID link in the list the page shows, like a user, and waits for its page. */
export async function openWorkflowFromList(page: Page, workflowId: string): Promise<void> {
  const table = page.getByRole('table', { name: 'Workflows' });
  await table.getByRole('link', { name: workflowId, exact: true }).first().click();
  await waitForWorkflowPage(page, workflowId);
}

// ---------------------------------------------------------------------------------------------
// Workflow page

export function workflowUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${trimSlash(uiUrl)}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** Opens a run's page (the latest run without runId) and waits until its header is shown. */
export async function openWorkflow(page: Page, uiUrl: string, namespace: string, workflowId: string, runId?: string): Promise<void> {
  await page.goto(workflowUrl(uiUrl, namespace, workflowId, runId));
  await waitForWorkflowPage(page, workflowId);
}

async function waitForWorkflowPage(page: Page, workflowId: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: workflowId, exact: true }).waitFor();
  await page.getByRole('button', { name: 'More Actions' }).waitFor();
}

const STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'Timed Out', 'Continued as New'];

/** The status badge in the workflow page's header: "Running", "Completed", … */
export async function readWorkflowStatus(page: Page): Promise<string> {
  const badge = page.getByRole('main').getByText(new RegExp(`^\\s*(${STATUSES.join('|')})\\s*$`)).first();
  return (await badge.innerText()).trim();
}

/** Waits until the workflow page's status badge says `status` (the page polls a running workflow). */
export async function waitForWorkflowStatus(page: Page, status: string, timeoutMs = 15_000): Promise<void> {
  await page.getByRole('main').getByText(new RegExp(`^\\s*${status}\\s*$`)).first().waitFor({ timeout: timeoutMs });
}

export interface UiMarkdownSection {
  /** Rendered text, as the engineer reads it. */
  text: string;
  /** The Markdown the UI rendered (from the renderer frame's address), when it can be read. */
  markdown?: string;
}

export interface UiUserMetadata {
  /** Static summary given at start (`staticSummary`). */
  summary?: UiMarkdownSection;
  /** Static details given at start (`staticDetails`). */
  details?: UiMarkdownSection;
  /** What the workflow last set with `setCurrentDetails`, as of page load. */
  currentDetails?: UiMarkdownSection;
}

/**
 * Reads the "User Metadata" tab of the open workflow page. Current details are fetched when the
 * page loads (the UI says "Press R for freshness"); pass `{ reload: true }` to read fresh ones.
 */
export async function readUserMetadata(page: Page, options: { reload?: boolean } = {}): Promise<UiUserMetadata> {
  if (options.reload) {
    const heading = page.getByRole('heading', { level: 1 });
    const workflowId = (await heading.innerText()).trim();
    await page.reload();
    await waitForWorkflowPage(page, workflowId);
  }
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  await page.getByRole('heading', { name: 'Current Details', exact: true }).waitFor();
  return {
    summary: await readMarkdownSection(page, 'Summary'),
    details: await readMarkdownSection(page, 'Details'),
    currentDetails: await readMarkdownSection(page, 'Current Details'),
  };
}

/** The current details (`setCurrentDetails`) the open workflow page shows. */
export async function readCurrentDetails(page: Page, options: { reload?: boolean } = {}): Promise<UiMarkdownSection | undefined> {
  return (await readUserMetadata(page, options)).currentDetails;
}

/** What clicking a link in rendered Markdown did: opened a page (a new tab or the frame itself), or started a download. */
export type UiOpenedLink =
  | { kind: 'page'; href: string; page: Page; status: number | null; contentType: string | null; text: string }
  | { kind: 'download'; href: string; suggestedFilename: string };

/**
 * Clicks the link named `name` in the open workflow page's Current Details, as an engineer
 * does, and reports what the browser did with it: a page it shows (its HTTP status, content
 * type and visible text), or a download. The details must be on the page (readCurrentDetails).
 */
export async function clickCurrentDetailsLink(page: Page, name: string | RegExp, timeoutMs = 15_000): Promise<UiOpenedLink> {
  const iframe = markdownFrame(page, 'Current Details');
  if ((await iframe.count()) === 0) throw new Error('the page shows no Current Details');
  const frame = iframe.contentFrame();
  const anchor = frame.getByRole('link', { name }).first();
  await anchor.waitFor({ timeout: timeoutMs });
  const href = (await anchor.getAttribute('href')) ?? '';
  const context = page.context();
  const responses = new Map<string, Response>();
  const onResponse = (r: Response) => {
    if (r.url() === href) responses.set(r.url(), r);
  };
  context.on('response', onResponse);
  try {
    // A link in the UI's Markdown opens a new tab; a download may start in the page, the frame's page or the new tab.
    const opened = new Promise<UiOpenedLink>((resolve) => {
      const onDownload = (d: { suggestedFilename(): string }) => resolve({ kind: 'download', href, suggestedFilename: d.suggestedFilename() });
      page.once('download', onDownload);
      context.once('page', (tab) => {
        tab.once('download', onDownload);
        void tab.waitForLoadState('load', { timeout: timeoutMs }).then(
          async () => {
            const response = responses.get(href) ?? null;
            resolve({ kind: 'page', href, page: tab, status: response?.status() ?? null, contentType: response?.headers()['content-type'] ?? null, text: await tab.locator('body').innerText() });
          },
          () => undefined,
        );
      });
    });
    await anchor.click();
    const timedOut = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`clicking "${String(name)}" (${href}) opened nothing within ${timeoutMs} ms`)), timeoutMs).unref());
    return await Promise.race([opened, timedOut]);
  } finally {
    context.off('response', onResponse);
  }
}

/** The iframe a section's Markdown is rendered in: the first after its heading, before the next heading. */
function markdownFrame(page: Page, heading: string): Locator {
  return page
    .getByRole('heading', { name: heading, exact: true })
    .first()
    .locator('xpath=following::*[self::iframe or self::h1 or self::h2 or self::h3][1][self::iframe]');
}

/** Markdown is rendered in an iframe placed after its section heading; a section without one has no iframe before the next heading. */
async function readMarkdownSection(page: Page, heading: string): Promise<UiMarkdownSection | undefined> {
  const title = page.getByRole('heading', { name: heading, exact: true });
  if ((await title.count()) === 0) return undefined;
  const next = title.first().locator('xpath=following::*[self::iframe or self::h1 or self::h2 or self::h3][1]');
  if ((await next.count()) === 0 || (await next.evaluate((e) => e.tagName.toLowerCase())) !== 'iframe') return undefined;
  const frame = next.contentFrame();
  await frame.locator('body').waitFor();
  const text = (await frame.locator('body').innerText()).trim();
  const src = await next.getAttribute('src');
  let markdown: string | undefined;
  if (src) markdown = new URL(src, page.url()).searchParams.get('content') ?? undefined;
  return { text, markdown };
}

// ---------------------------------------------------------------------------------------------
// Updates and Signals

export interface UiSendResult {
  /** True when the UI reported success; false when it showed an error (e.g. a validator's refusal). */
  ok: boolean;
  /** The text the UI showed: the toast on success ("Update successful"), the error on failure. */
  message: string;
  /** On failure, everything the dialog's error showed (its message and any stack trace below it). */
  alertText?: string;
}

export interface UiUpdateResult extends UiSendResult {
  /** The Update ID the dialog sent. */
  updateId?: string;
  /** The Update's return value, decoded from the UI's own response when it is plain JSON. */
  result?: unknown;
}

export interface SendFromUiOptions {
  /**
   * When the handler is not in the dialog's list (the list comes from a query the workflow's
   * worker answers when the page loads), type the name under "Custom" instead of failing.
   */
  customName?: boolean;
  /** How long to wait for the handler to be listed, and for the UI's answer. Default 15 s. */
  timeoutMs?: number;
  /** Saves a screenshot here while the UI shows its answer (the dialog's error, or the toast). */
  screenshot?: string;
}

/**
 * Sends an Update from the open workflow page: More Actions → "Send an Update", picks the
 * handler by name (the list shows each handler's description), types the payload as JSON and
 * submits. Resolves with what the UI then shows: the success toast, or the error the dialog
 * shows (a validator's message on refusal; the dialog is then closed). The page must show a
 * running workflow whose worker is polling.
 */
export async function sendUpdateFromUi(page: Page, updateName: string, payload: unknown, options: SendFromUiOptions = {}): Promise<UiUpdateResult> {
  const timeout = options.timeoutMs ?? 15_000;
  const dialog = await openActionDialog(page, 'Send an Update', 'Send an Update');
  await closeDialogOnError(page, dialog, async () => {
    await chooseHandler(page, dialog, /select an update/i, updateName, options.customName ?? false, timeout);
    await fillJson(dialog, payload);
  });

  // The UI's own request: it carries the Update ID the dialog generated, its answer the result.
  const response = page
    .waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/update/${encodeURIComponent(updateName)}`), { timeout })
    .catch(() => undefined);
  const outcome = await submitAndReadOutcome(page, dialog, /update/i, timeout, options.screenshot);
  const answered = await response;
  const body = (await answered?.json().catch(() => undefined)) as UpdateResponseJson | undefined;
  const sent = answered?.request().postDataJSON() as { request?: { meta?: { updateId?: string } } } | undefined;
  const updateId = body?.updateRef?.updateId ?? sent?.request?.meta?.updateId;
  const result = outcome.ok ? decodeUpdateResult(body) : undefined;
  return { ...outcome, ...(updateId ? { updateId } : {}), ...(result === undefined ? {} : { result }) };
}

async function openActionDialog(page: Page, menuItem: string, dialogName: string): Promise<Locator> {
  await page.getByRole('button', { name: 'More Actions' }).click();
  const item = page.getByRole('menuitem', { name: menuItem, exact: true });
  await item.waitFor();
  if ((await item.getAttribute('aria-disabled')) === 'true' || (await item.isDisabled())) {
    await page.keyboard.press('Escape');
    throw new Error(`"${menuItem}" is disabled in the UI (is the workflow still running?)`);
  }
  await item.click();
  const dialog = page.getByRole('dialog', { name: dialogName });
  await dialog.waitFor();
  return dialog;
}

/** Leaves the page usable (no dialog open) when filling the dialog fails. */
async function closeDialogOnError(page: Page, dialog: Locator, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    // Escape closes an open list first, then the dialog.
    for (let i = 0; i < 3 && (await dialog.isVisible()); i++) await page.keyboard.press('Escape');
    if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Cancel' }).last().click({ timeout: 2_000 }).catch(() => {});
    throw err;
  }
}

async function chooseHandler(page: Page, dialog: Locator, selectName: RegExp, name: string, customName: boolean, timeout: number): Promise<void> {
  const select = dialog.getByRole('button', { name: selectName });
  if ((await select.count()) === 0) {
    // No handler list at all (older UIs, or no worker answered): the name is a plain text box.
    if (!customName) throw new Error(`the dialog offers no list of handlers to pick "${name}" from (is a worker polling?); pass { customName: true } to type it`);
    await dialog.getByRole('textbox').first().fill(name);
    return;
  }
  await select.click();
  const listbox = dialog.getByRole('listbox');
  // Each option is the handler's name followed by its description.
  const option = listbox.getByRole('option').filter({ has: page.getByText(name, { exact: true }) });
  try {
    await option.first().waitFor({ timeout: customName ? Math.min(timeout, 3_000) : timeout });
  } catch (err) {
    const offered = (await listbox.getByRole('option').allInnerTexts()).map((t) => t.split('\n')[0]!.trim());
    if (!customName) {
      throw new Error(`the UI does not list "${name}" (it offers: ${offered.join(', ') || 'nothing'}); is the workflow's worker polling? pass { customName: true } to type the name`, { cause: err });
    }
    await listbox.getByRole('option').filter({ hasText: /^\s*Custom/ }).first().click();
    await dialog.getByRole('textbox', { name: /name/i }).first().fill(name);
    return;
  }
  await option.first().click();
}

/** The Data field is a CodeMirror editor: a contenteditable textbox without a label. */
async function fillJson(dialog: Locator, payload: unknown): Promise<void> {
  const editor = dialog.getByRole('textbox').and(dialog.locator('[contenteditable="true"]'));
  await editor.fill(JSON.stringify(payload));
  // The editor reformats its JSON when it loses focus, which moves the Submit button; blur first
  // so the click that submits does not land where the button used to be.
  await editor.blur();
}

async function submitAndReadOutcome(page: Page, dialog: Locator, toastText: RegExp, timeout: number, screenshot?: string): Promise<UiSendResult> {
  const submit = dialog.getByRole('button', { name: 'Submit' });
  await submit.click({ timeout });
  const error = dialog.getByRole('alert').first();
  // The dialog either shows an error, or closes and a toast confirms.
  const settled = await Promise.race([
    error.waitFor({ timeout }).then(() => 'error' as const),
    dialog.waitFor({ state: 'hidden', timeout }).then(() => 'closed' as const),
  ]).catch(() => 'timeout' as const);
  if (settled === 'error') {
    const message = await readAlertMessage(error);
    const alertText = (await error.innerText()).trim();
    if (screenshot) await page.screenshot({ path: screenshot });
    await dialog.getByRole('button', { name: 'Cancel' }).last().click();
    await dialog.waitFor({ state: 'hidden' });
    return { ok: false, message, alertText };
  }
  if (settled === 'timeout') throw new Error(`the UI showed no answer within ${timeout} ms of submitting`);
  // Toasts ("Update successful", "Workflow signaled.") appear in the page's log region.
  const toast = page.getByRole('log').getByText(toastText).last();
  await toast.waitFor({ timeout });
  if (screenshot) await page.screenshot({ path: screenshot });
  return { ok: true, message: (await toast.innerText()).trim() };
}

/** The dialog's error: a first line (the failure's message) and, below it, the stack trace. */
async function readAlertMessage(alert: Locator): Promise<string> {
  const first = alert.getByRole('paragraph').first();
  if ((await first.count()) > 0) return (await first.innerText()).trim();
  return (await alert.innerText()).trim().split('\n')[0]!.trim();
}

interface UpdateResponseJson {
  updateRef?: { updateId?: string };
  outcome?: { success?: { payloads?: { metadata?: Record<string, string>; data?: string }[] } };
}

function decodeUpdateResult(body: UpdateResponseJson | undefined): unknown {
  const payload = body?.outcome?.success?.payloads?.[0];
  if (!payload?.data) return undefined;
  const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding, 'base64').toString() : '';
  if (encoding !== 'json/plain') return undefined;
  try {
    return JSON.parse(Buffer.from(payload.data, 'base64').toString());
  } catch {
    return undefined;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
