import { z } from 'zod';

/** What one POST to a webhook got back. */
export interface WebhookAnswer {
  /** The HTTP status; null when there was no answer (refused connection, DNS, timeout). */
  status: number | null;
  /** The server's Retry-After in seconds (429, 503), when it sent a number. */
  retryAfterSeconds: number | null;
  /** Why it did not succeed, for the record: the start of the body of a non-2xx answer, or the network error. */
  error: string | null;
  /** How long the attempt took. */
  ms: number;
}

/** Longest part of a webhook's error body kept in a record (Slack answers e.g. "invalid_payload", "no_service"). */
const ERROR_BODY_CHARS = 200;

/** The answer as it arrives; only these parts are read, and they are checked here, at the edge. */
const RawAnswer = z.object({
  status: z.number().int().min(100).max(599),
  retryAfter: z.preprocess((value) => (value === null || value === '' ? undefined : Number(value)), z.number().int().nonnegative().optional().catch(undefined)),
  body: z.string(),
});

/**
 * One POST of a JSON body to a webhook (an incoming-webhook URL of Slack, or any HTTP endpoint
 * taking Retrain's JSON). It never throws for what the server answered nor for a network error:
 * the caller decides what to retry (lib/notification/notification-delivery.ts). Redirects are
 * not followed: a webhook that moved answers 3xx, recorded as not delivered.
 */
export async function postWebhook(url: string, body: string, options: { timeoutMs: number }): Promise<WebhookAnswer> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'retrain-notifier' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const answer = RawAnswer.parse({ status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() });
    const ok = answer.status >= 200 && answer.status < 300;
    return {
      status: answer.status,
      retryAfterSeconds: answer.retryAfter ?? null,
      error: ok ? null : `HTTP ${answer.status}${answer.body.trim() ? `: ${answer.body.trim().slice(0, ERROR_BODY_CHARS)}` : ''}`,
      ms: ms(),
    };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const message = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `${err instanceof Error ? err.message : String(err)}${cause}`;
    return { status: null, retryAfterSeconds: null, error: message, ms: ms() };
  }
}
