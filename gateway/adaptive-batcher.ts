/**
 * Adaptive batching of model calls: while one call of a model runs, requests that arrive are
 * queued and then scored together in the next call. With no call running, the call starts in
 * the same event-loop turn (a microtask later, so that requests submitted together share it):
 * an idle gateway adds no wait, and under load batches form by themselves.
 *
 * Why: a model call has a fixed cost that dwarfs the per-row cost of a small model (about
 * 30 µs for the built-in logistic regression, plus about 0.3 µs per row), and onnxruntime-node
 * runs every call on the event loop's thread. Scoring concurrent requests one call each spends
 * most of the gateway's CPU on that fixed cost.
 *
 * A request submitted `alone` gets a call of its own (a latency probe: its latency is its
 * own, comparable across versions). A merged call that fails is retried request by request,
 * so one bad request fails only itself.
 */

/** What one model call returns for its rows. */
export interface ModelCallResult {
  /** P(positive class) per row. */
  readonly probabilities: Float64Array;
  /** The model's output as computed: [P(0), P(1)] per row, row-major. */
  readonly classProbabilities: Float32Array | Float64Array;
  /** The call's time, in milliseconds. */
  readonly latencyMs: number;
}

/** One request's share of a call. */
export interface BatchedResult extends ModelCallResult {
  /** Whether the call scored this request's rows only; if not, `latencyMs` is the merged call's. */
  readonly scoredAlone: boolean;
}

interface Submission<Row> {
  readonly rows: readonly Row[];
  readonly alone: boolean;
  resolve(result: BatchedResult): void;
  reject(err: unknown): void;
}

export class AdaptiveBatcher<Row> {
  private queue: Submission<Row>[] = [];
  private running = false;

  constructor(
    private readonly call: (rows: readonly Row[]) => Promise<ModelCallResult>,
    /** Rows per merged call at most; a request with more rows still gets its own call. */
    private readonly maxRows = 256,
  ) {}

  /** Requests waiting for a call. */
  get waiting(): number {
    return this.queue.length;
  }

  submit(rows: readonly Row[], alone = false): Promise<BatchedResult> {
    return new Promise<BatchedResult>((resolve, reject) => {
      this.queue.push({ rows, alone, resolve, reject });
      if (!this.running) {
        this.running = true;
        queueMicrotask(() => this.next());
      }
    });
  }

  /** Starts the next call: the first queued request merged with the following ones that fit, or a probe alone. */
  private next(): void {
    const head = this.queue[0];
    if (!head) {
      this.running = false;
      return;
    }
    this.running = true;
    let batch: Submission<Row>[];
    if (head.alone) {
      batch = [head];
      this.queue.shift();
    } else {
      batch = [];
      const rest: Submission<Row>[] = [];
      let rows = 0;
      for (const submission of this.queue) {
        const fits = !submission.alone && (batch.length === 0 || rows + submission.rows.length <= this.maxRows);
        if (fits) {
          batch.push(submission);
          rows += submission.rows.length;
        } else {
          rest.push(submission);
        }
      }
      this.queue = rest;
    }
    void this.run(batch).finally(() => this.next());
  }

  private async run(batch: readonly Submission<Row>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      try {
        only!.resolve({ ...(await this.call(only!.rows)), scoredAlone: true });
      } catch (err) {
        only!.reject(err);
      }
      return;
    }
    let result: ModelCallResult;
    try {
      result = await this.call(batch.flatMap((s) => s.rows));
    } catch {
      // Find the culprit: each request is retried in a call of its own, ahead of newer requests.
      this.queue.unshift(...batch.map((s) => ({ ...s, alone: true })));
      return;
    }
    let offset = 0;
    for (const submission of batch) {
      const n = submission.rows.length;
      submission.resolve({
        probabilities: result.probabilities.subarray(offset, offset + n),
        classProbabilities: result.classProbabilities.subarray(2 * offset, 2 * (offset + n)),
        latencyMs: result.latencyMs,
        scoredAlone: false,
      });
      offset += n;
    }
  }
}
