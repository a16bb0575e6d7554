/**
 * A small client of Label Studio's REST API (written against 1.23.2): projects, webhooks, task
 * import and export. Every response is parsed with zod at this edge; errors name the call, the
 * status and what to do. No retries here: activities retry (workflows/activity-options.ts).
 *
 * Authentication: a personal access token (a JWT refresh token, Label Studio's default since
 * legacy tokens are disabled per organization) is exchanged at `/api/token/refresh/` for access
 * tokens (5 minutes), renewed before they expire and after a 401; any other token is sent as a
 * legacy token (`Authorization: Token ...`), which works only where the organization enabled them
 * (its JWT settings).
 */
import { z } from 'zod';
import { LabelStudioExportTask } from './label-studio-export-format';

export interface LabelStudioClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (LABEL_STUDIO_URL). */
  url: string;
  /** A personal access token, or a legacy API token (LABEL_STUDIO_API_TOKEN). */
  token: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

/**
 * A failed call: `status` is the HTTP status (0: no answer at all). A refusal of the request itself
 * (4xx other than 408 and 429) has type LabelStudioRejected, which activities do not retry; no
 * answer and 5xx stay retryable (Label Studio restarting).
 */
export class LabelStudioError extends Error {
  readonly type: 'LabelStudioRejected' | 'LabelStudioUnavailable';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'LabelStudioError';
    this.type = status >= 400 && status < 500 && status !== 408 && status !== 429 ? 'LabelStudioRejected' : 'LabelStudioUnavailable';
  }
}

const Project = z.object({ id: z.number().int(), title: z.string().nullable().optional(), label_config: z.string().optional() });
export type LabelStudioProject = z.infer<typeof Project>;
const ProjectPage = z.object({ results: z.array(Project), next: z.string().nullable().optional() });
const Webhook = z.object({
  id: z.number().int(),
  url: z.string(),
  project: z.number().int().nullable().optional(),
  is_active: z.boolean().optional(),
  actions: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type LabelStudioWebhook = z.infer<typeof Webhook>;
const ImportResult = z.object({ task_count: z.number().int(), task_ids: z.array(z.number().int()).optional() });
const AccessToken = z.object({ access: z.string().min(1) });

/** A task to import: its data and the model's pre-annotations. */
export interface LabelStudioTaskInput {
  data: Record<string, unknown>;
  predictions?: { model_version: string; score: number; result: unknown[] }[];
}

const isJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

export class LabelStudioClient {
  readonly url: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  #access: { token: string; expiresAt: number } | undefined;

  constructor(options: LabelStudioClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Whether the token is a personal access token (JWT) rather than a legacy token. */
  get personalAccessToken(): boolean {
    return isJwt(this.#token);
  }

  /** The user the token belongs to (a cheap check that URL and token work). */
  async whoAmI(): Promise<{ id: number; email: string }> {
    return z.object({ id: z.number().int(), email: z.string() }).parse(await this.#json('GET', '/api/current-user/whoami'));
  }

  async findProjectByTitle(title: string): Promise<LabelStudioProject | undefined> {
    for (let page = 1; ; page++) {
      const body = ProjectPage.parse(await this.#json('GET', `/api/projects/?page=${page}&page_size=100`));
      const found = body.results.find((p) => p.title === title);
      if (found) return found;
      if (!body.next) return undefined;
    }
  }

  async createProject(input: { title: string; description: string; label_config: string }): Promise<LabelStudioProject> {
    return Project.parse(await this.#json('POST', '/api/projects/', input));
  }

  async updateProject(id: number, input: { label_config?: string; description?: string }): Promise<LabelStudioProject> {
    return Project.parse(await this.#json('PATCH', `/api/projects/${id}/`, input));
  }

  async listWebhooks(projectId: number): Promise<LabelStudioWebhook[]> {
    return z.array(Webhook).parse(await this.#json('GET', `/api/webhooks/?project=${projectId}`));
  }

  async createWebhook(input: { project: number; url: string; headers: Record<string, string>; actions: string[] }): Promise<LabelStudioWebhook> {
    return Webhook.parse(await this.#json('POST', '/api/webhooks/', { ...input, send_payload: true, send_for_all_actions: false, is_active: true }));
  }

  async updateWebhook(id: number, input: { url: string; headers: Record<string, string>; actions: string[] }): Promise<LabelStudioWebhook> {
    return Webhook.parse(await this.#json('PATCH', `/api/webhooks/${id}/`, { ...input, send_payload: true, send_for_all_actions: false, is_active: true }));
  }

  /** Imports tasks synchronously; returns the new tasks' ids in import order. */
  async importTasks(projectId: number, tasks: readonly LabelStudioTaskInput[]): Promise<number[]> {
    const result = ImportResult.parse(await this.#json('POST', `/api/projects/${projectId}/import?commit_to_project=true&return_task_ids=true`, tasks));
    if (!result.task_ids || result.task_ids.length !== tasks.length) {
      throw new LabelStudioError(`Label Studio imported ${result.task_count} of ${tasks.length} tasks into project ${projectId} without returning their ids`, 200);
    }
    return result.task_ids;
  }

  /**
   * Tasks of a project in Label Studio's JSON export format (annotations included): the given
   * task ids (in chunks), or all tasks; `onlyAnnotated` leaves out tasks nobody annotated yet.
   */
  async exportTasks(projectId: number, options: { taskIds?: readonly number[]; onlyAnnotated: boolean }): Promise<LabelStudioExportTask[]> {
    const all = options.onlyAnnotated ? '' : '&download_all_tasks=true';
    if (!options.taskIds) return z.array(LabelStudioExportTask).parse(await this.#json('GET', `/api/projects/${projectId}/export?exportType=JSON${all}`));
    const tasks: LabelStudioExportTask[] = [];
    for (let i = 0; i < options.taskIds.length; i += 200) {
      const ids = options.taskIds.slice(i, i + 200).map((id) => `&ids[]=${id}`).join('');
      tasks.push(...z.array(LabelStudioExportTask).parse(await this.#json('GET', `/api/projects/${projectId}/export?exportType=JSON${all}${ids}`)));
    }
    return tasks;
  }

  /** Marks a task for people (its `meta`), e.g. "sent back for review". */
  async setTaskMeta(taskId: number, meta: Record<string, unknown>): Promise<void> {
    await this.#json('PATCH', `/api/tasks/${taskId}/`, { meta });
  }

  async #authorization(renew = false): Promise<string> {
    if (!this.personalAccessToken) return `Token ${this.#token}`;
    if (!renew && this.#access && this.#access.expiresAt > Date.now() + 30_000) return `Bearer ${this.#access.token}`;
    const response = await this.#fetch('POST', '/api/token/refresh/', { refresh: this.#token }, undefined);
    if (response.status === 401) {
      throw new LabelStudioError(
        `Label Studio at ${this.url} refused the personal access token (401 on /api/token/refresh/): it was revoked, expired, or belongs to another Label Studio; create a new one under Account & Settings → Personal Access Token and set LABEL_STUDIO_API_TOKEN`,
        401,
      );
    }
    const { access } = AccessToken.parse(await this.#body(response, 'POST /api/token/refresh/'));
    this.#access = { token: access, expiresAt: jwtExpiry(access) };
    return `Bearer ${access}`;
  }

  async #json(method: string, pathAndQuery: string, body?: unknown): Promise<unknown> {
    let response = await this.#fetch(method, pathAndQuery, body, await this.#authorization());
    // An access token can expire between the check and the call (or the server's clock differs): renew once.
    if (response.status === 401 && this.personalAccessToken) response = await this.#fetch(method, pathAndQuery, body, await this.#authorization(true));
    if (response.status === 401) {
      const detail = await response.text().catch(() => '');
      const legacy = /legacy token authentication has been disabled/i.test(detail);
      throw new LabelStudioError(
        legacy
          ? `Label Studio at ${this.url} refused the legacy API token: its organization disabled legacy tokens; use a personal access token (Account & Settings), or enable legacy tokens in the organization's JWT settings (POST /api/jwt/settings {"legacy_api_tokens_enabled": true})`
          : `Label Studio at ${this.url} refused the token on ${method} ${pathAndQuery} (401): set LABEL_STUDIO_API_TOKEN to a personal access token of a user of this Label Studio`,
        401,
      );
    }
    return this.#body(response, `${method} ${pathAndQuery.split('?')[0]}`);
  }

  async #body(response: Response, what: string): Promise<unknown> {
    const text = await response.text();
    if (!response.ok) {
      throw new LabelStudioError(`Label Studio at ${this.url} answered ${response.status} to ${what}: ${text.slice(0, 500)}`, response.status);
    }
    try {
      return text === '' ? null : JSON.parse(text);
    } catch {
      throw new LabelStudioError(`Label Studio at ${this.url} answered ${what} with something that is not JSON: ${text.slice(0, 200)}`, response.status);
    }
  }

  async #fetch(method: string, pathAndQuery: string, body: unknown, authorization: string | undefined): Promise<Response> {
    try {
      return await fetch(`${this.url}${pathAndQuery}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(authorization ? { authorization } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new LabelStudioError(`Label Studio at ${this.url} did not answer ${method} ${pathAndQuery.split('?')[0]} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}): is it running, and is LABEL_STUDIO_URL right?`, 0);
    }
  }
}

/** The `exp` of a JWT in ms; a token without one is renewed after 4 minutes. */
function jwtExpiry(token: string): number {
  try {
    const payload = z.object({ exp: z.number() }).parse(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')));
    return payload.exp * 1000;
  } catch {
    return Date.now() + 4 * 60_000;
  }
}
