/**
 * The request ids this gateway served recently, per model, in memory, with the label each got.
 * It is what answers, without a database round trip:
 *
 * - a prediction whose (item) request id was already used for the model: 409 — an id is
 *   reserved when its request is accepted, so two concurrent requests with one id cannot
 *   both be served, and released when the request fails (a retry of a failed id is allowed);
 * - feedback: accepted only for an id served here, once; an id still being scored is not
 *   served yet, and its feedback is refused rather than stored ahead of the prediction.
 *
 * Bounded: beyond `capacity` ids the oldest are forgotten, but never one whose prediction row
 * is still waiting in the prediction log (`isWritten`), so the ids of every unwritten row stay
 * known while Postgres is down; memory then grows by at most the log's own capacity. A
 * forgotten id is looked up in Postgres by the feedback route; a repeated prediction id is
 * then caught by the predictions table's unique index, which keeps the first (see docs/gateway.md).
 *
 * An entry is one number: -1 while reserved, else `position * 3 + label code` (0: no label,
 * 1: label 0, 2: label 1), where position is the prediction log's append count after the
 * request's rows were queued (they are written once the log's settled count reaches it).
 */

const RESERVED = -1;

export type ServedState =
  /** Not known here: never served by this process, or forgotten. */
  | { readonly kind: 'unknown' }
  /** Accepted and being scored: not answered yet. */
  | { readonly kind: 'pending' }
  | { readonly kind: 'served'; readonly label: 0 | 1 | null };

export interface ServedRequestsOptions {
  /** Ids kept (all models together) before the oldest written ones are forgotten. */
  capacity: number;
  /** Whether the log rows up to this append position were written (or settled otherwise). */
  isWritten(position: number): boolean;
}

export class ServedRequests {
  private readonly byModel = new Map<string, Map<string, number>>();
  /** Served ids in the order they were confirmed, from `head` on: the eviction order. */
  private ringIds: string[] = [];
  private ringModels: Map<string, number>[] = [];
  private head = 0;

  constructor(private readonly options: ServedRequestsOptions) {}

  /** Ids held (served or reserved). */
  get size(): number {
    let n = 0;
    for (const ids of this.byModel.values()) n += ids.size;
    return n;
  }

  /**
   * Reserves `ids` for a request about to be scored; returns the first id that is already
   * served or reserved (nothing is reserved then), or null.
   */
  reserve(model: string, ids: readonly string[]): string | null {
    const known = this.ids(model);
    for (const id of ids) if (known.has(id)) return id;
    for (const id of ids) known.set(id, RESERVED);
    return null;
  }

  /** The request was answered: its rows are queued up to log position `position`. */
  confirm(model: string, ids: readonly string[], position: number): void {
    const known = this.ids(model);
    for (const id of ids) {
      known.set(id, position * 3);
      this.ringIds.push(id);
      this.ringModels.push(known);
    }
    this.evict();
  }

  /** The request was not served (refused or failed): its ids may be used again. */
  release(model: string, ids: readonly string[]): void {
    const known = this.byModel.get(model);
    if (!known) return;
    for (const id of ids) if (known.get(id) === RESERVED) known.delete(id);
  }

  state(model: string, id: string): ServedState {
    const value = this.byModel.get(model)?.get(id);
    if (value === undefined) return { kind: 'unknown' };
    if (value === RESERVED) return { kind: 'pending' };
    const code = value % 3;
    return { kind: 'served', label: code === 0 ? null : code === 1 ? 0 : 1 };
  }

  /** An id found served in Postgres (before this process started, or forgotten): known again, with its label if it has one. */
  remember(model: string, id: string, label: 0 | 1 | null): void {
    const known = this.ids(model);
    if (known.has(id)) return;
    known.set(id, label === null ? 0 : label + 1);
    this.ringIds.push(id);
    this.ringModels.push(known);
    this.evict();
  }

  /** Records the label of a served id (null takes it back, when queuing the feedback failed). */
  setLabel(model: string, id: string, label: 0 | 1 | null): void {
    const known = this.byModel.get(model);
    const value = known?.get(id);
    if (!known || value === undefined || value === RESERVED) return;
    known.set(id, value - (value % 3) + (label === null ? 0 : label + 1));
  }

  private ids(model: string): Map<string, number> {
    let known = this.byModel.get(model);
    if (!known) {
      known = new Map();
      this.byModel.set(model, known);
    }
    return known;
  }

  /** Forgets the oldest served ids beyond capacity, stopping at one whose row is not written yet. */
  private evict(): void {
    while (this.ringIds.length - this.head > this.options.capacity) {
      const id = this.ringIds[this.head]!;
      const known = this.ringModels[this.head]!;
      const value = known.get(id);
      if (value !== undefined && value !== RESERVED && !this.options.isWritten(Math.floor(value / 3))) break;
      if (value !== RESERVED) known.delete(id);
      this.head++;
    }
    // Compact the ring once its forgotten head is as long as the live part.
    if (this.head > 1024 && this.head * 2 > this.ringIds.length) {
      this.ringIds = this.ringIds.slice(this.head);
      this.ringModels = this.ringModels.slice(this.head);
      this.head = 0;
    }
  }
}
