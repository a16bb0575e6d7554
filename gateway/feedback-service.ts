/**
 * Feedback (ground-truth labels) for served request ids. The rule:
 *
 * - a label is taken only for a request id this gateway served for the model (an item id of a
 *   batch, `<requestId>/<i>`, is one), once: the same label again is a retry and answers 200
 *   `recorded: false`; another label is a 409; an id never served (or failed) is a 404, and so is
 *   an id whose request is still being scored (its answer has not been sent);
 * - a taken label is queued in the prediction log, behind its prediction's row (202): the two
 *   are written in order, in one transaction or the label in a later one (serving-log.ts), so
 *   Postgres never holds a label before its prediction, and a short Postgres outage delays both
 *   without losing either or failing the caller;
 * - ids are checked in memory (ServedRequests: the ids served recently, with their labels); an
 *   id this process does not know (served before it started, or forgotten) is looked up in
 *   Postgres, which must then answer (503 with Retry-After when it does not).
 */
import type { Kysely } from 'kysely';
import { servedRequestFeedback } from '../lib/db/repositories/feedback';
import type { ServingLogEntry } from '../lib/db/repositories/serving-log';
import type { Database } from '../lib/db/schema';
import type { ParsedFeedback } from './feedback-request';
import type { PredictionLog } from './prediction-log';
import { GatewayRequestError } from './request-error';
import type { ServedRequests } from './served-requests';
import { quoted } from './storable-text';

/** How long a lookup of an unknown id may take before the caller gets a 503. */
const LOOKUP_TIMEOUT_MS = 2_000;

export interface FeedbackServiceDeps {
  db: Kysely<Database>;
  served: ServedRequests;
  predictionLog: PredictionLog<ServingLogEntry>;
}

export class FeedbackService {
  constructor(private readonly deps: FeedbackServiceDeps) {}

  /** Takes the label (true: queued now; false: the same label was taken before); throws 404, 409 or 503 as the module doc says. */
  async record(model: string, feedback: ParsedFeedback): Promise<boolean> {
    const { served } = this.deps;
    const { requestId, label } = feedback;
    let state = served.state(model, requestId);
    if (state.kind === 'unknown') {
      const stored = await this.lookup(model, requestId);
      if (!stored.served) throw notServed(model, requestId);
      served.remember(model, requestId, stored.label === 0 || stored.label === 1 ? stored.label : null);
      state = served.state(model, requestId);
      if (state.kind === 'unknown') state = { kind: 'served', label: stored.label === 0 || stored.label === 1 ? stored.label : null };
    }
    if (state.kind === 'pending') {
      throw new GatewayRequestError(404, 'request_not_found', `request ${quoted(requestId)} of model '${model}' has not been answered yet; send its feedback after the prediction's answer`, {
        field: 'requestId',
      });
    }
    if (state.label !== null) {
      if (state.label === label) return false;
      throw new GatewayRequestError(409, 'feedback_conflict', `feedback for request ${quoted(requestId)} was already recorded with label ${state.label}`, { field: 'label' });
    }
    served.setLabel(model, requestId, label);
    try {
      const wait = this.deps.predictionLog.append([{ model, requestId, label }]);
      if (wait) await wait;
    } catch (err) {
      served.setLabel(model, requestId, null);
      throw err;
    }
    return true;
  }

  private async lookup(model: string, requestId: string): Promise<{ served: boolean; label: number | null }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        servedRequestFeedback(this.deps.db, model, requestId),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      throw new GatewayRequestError(
        503,
        'database_unavailable',
        `request ${quoted(requestId)} is not among the ids this gateway served recently, and Postgres, which holds the older ones, does not answer (${(err as Error).message}); try again shortly`,
        { retryAfterSeconds: 2 },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

function notServed(model: string, requestId: string): GatewayRequestError {
  return new GatewayRequestError(404, 'request_not_found', `request ${quoted(requestId)} was not served for model '${model}'; feedback is taken for served request ids only`, {
    field: 'requestId',
  });
}
