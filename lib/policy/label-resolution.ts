import { cohenKappa, fleissKappa, itemAgreement } from '../stats/annotator-agreement';

/**
 * How the annotations of a labeling batch become labels: per item, whether it has enough
 * annotators, whether they agree, and what the conflict rule makes of a disagreement; over the
 * batch, Cohen's kappa (exactly two annotators, both on every item with two annotations) or
 * Fleiss' kappa (otherwise). A conflict is always reported, resolved or not; nothing is
 * resolved except by the configured rule. Pure: the same annotations always give the same result.
 */

export type ConflictRule = 'majority' | 'review';

/** One annotator's current answer for an item (an updated annotation replaces the earlier one). */
export interface ItemAnnotation {
  annotator: string;
  value: number;
}

export interface BatchItemAnnotations {
  itemId: string;
  annotations: readonly ItemAnnotation[];
}

/**
 * - `pending`: fewer annotators than required;
 * - `unanimous`: every annotator chose `value`;
 * - `majority`: annotators disagreed and more than half chose `value` (rule majority, or a review settled it);
 * - `review` (rule review): annotators disagreed; sent back, waiting for one more annotation;
 * - `tie` (rule majority): no class has more than half of the votes: reported, not trained on.
 */
export type ItemResolution = 'pending' | 'unanimous' | 'majority' | 'review' | 'tie';

export interface ResolvedItem {
  itemId: string;
  resolution: ItemResolution;
  /** The label to train on: set for unanimous and majority, null otherwise. */
  value: number | null;
  /** Annotators per class (index = class value). */
  votes: number[];
  /** Fleiss' P_i of the item; null with fewer than two annotations. */
  agreement: number | null;
}

export interface BatchAgreement {
  method: 'cohen' | 'fleiss' | 'none';
  /** Null when undefined (no item with two annotations, or chance agreement 1). */
  kappa: number | null;
  /** Items the kappa was computed on. */
  items: number;
  /** Mean per-item agreement over items with two or more annotations; null without any. */
  meanItemAgreement: number | null;
  /** The annotators, for Cohen's kappa (exactly two). */
  annotators: string[];
}

export interface BatchResolution {
  items: number;
  /** Items with a label to train on (unanimous or majority). */
  labeled: number;
  pending: number;
  /** Items whose annotators disagreed (resolved by majority, waiting for review, or tied). */
  conflicts: number;
  /** Conflicts the rule could not (yet) resolve: ties, items waiting for review. */
  unresolved: number;
  agreement: BatchAgreement;
  resolved: ResolvedItem[];
}

/** Resolves every item of a batch; `classes` is K (votes arrays have that length). */
export function resolveBatch(
  items: readonly BatchItemAnnotations[],
  options: { rule: ConflictRule; annotatorsPerItem: number; classes: number },
): BatchResolution {
  const resolved = items.map((item) => resolveItem(item, options));
  const counted = (r: ItemResolution) => resolved.filter((i) => i.resolution === r).length;
  const conflicts = resolved.filter((i) => i.resolution === 'majority' || i.resolution === 'review' || i.resolution === 'tie').length;
  return {
    items: items.length,
    labeled: counted('unanimous') + counted('majority'),
    pending: counted('pending'),
    conflicts,
    unresolved: counted('review') + counted('tie'),
    agreement: batchAgreement(items, resolved, options.classes),
    resolved,
  };
}

function resolveItem(item: BatchItemAnnotations, options: { rule: ConflictRule; annotatorsPerItem: number; classes: number }): ResolvedItem {
  const votes = new Array<number>(options.classes).fill(0);
  for (const a of item.annotations) {
    if (!Number.isInteger(a.value) || a.value < 0 || a.value >= options.classes) {
      throw new Error(`item ${item.itemId}: annotator ${a.annotator} chose class ${a.value}, which is not one of the model's ${options.classes} classes`);
    }
    votes[a.value]!++;
  }
  const n = item.annotations.length;
  const agreementValue = itemAgreement(votes);
  const agreement = Number.isNaN(agreementValue) ? null : agreementValue;
  const base = { itemId: item.itemId, votes, agreement };
  if (n < options.annotatorsPerItem || n === 0) return { ...base, resolution: 'pending', value: null };
  const top = votes.reduce((best, c, k) => (c > votes[best]! ? k : best), 0);
  if (votes[top] === n) return { ...base, resolution: 'unanimous', value: top };
  const strictMajority = votes[top]! * 2 > n;
  if (options.rule === 'majority') return strictMajority ? { ...base, resolution: 'majority', value: top } : { ...base, resolution: 'tie', value: null };
  // review: a disagreement is sent back; once a reviewer's annotation (beyond the required ones) makes a strict majority, it stands.
  return strictMajority && n > options.annotatorsPerItem ? { ...base, resolution: 'majority', value: top } : { ...base, resolution: 'review', value: null };
}

function batchAgreement(items: readonly BatchItemAnnotations[], resolved: readonly ResolvedItem[], classes: number): BatchAgreement {
  const multi = items.filter((i) => i.annotations.length >= 2);
  const agreements = resolved.map((r) => r.agreement).filter((a): a is number => a !== null);
  const meanItemAgreement = agreements.length === 0 ? null : agreements.reduce((s, a) => s + a, 0) / agreements.length;
  if (multi.length === 0) return { method: 'none', kappa: null, items: 0, meanItemAgreement, annotators: [] };
  const annotators = [...new Set(multi.flatMap((i) => i.annotations.map((a) => a.annotator)))].sort();
  const pairOnEveryItem = annotators.length === 2 && multi.every((i) => i.annotations.length === 2);
  if (pairOnEveryItem) {
    const [first, second] = annotators as [string, string];
    const valueOf = (i: BatchItemAnnotations, who: string) => i.annotations.find((a) => a.annotator === who)!.value;
    const kappa = cohenKappa(
      multi.map((i) => valueOf(i, first)),
      multi.map((i) => valueOf(i, second)),
    );
    return { method: 'cohen', kappa: Number.isNaN(kappa) ? null : kappa, items: multi.length, meanItemAgreement, annotators };
  }
  const counts = multi.map((i) => {
    const row = new Array<number>(classes).fill(0);
    for (const a of i.annotations) row[a.value]!++;
    return row;
  });
  const fleiss = fleissKappa(counts);
  return { method: 'fleiss', kappa: Number.isNaN(fleiss.kappa) ? null : fleiss.kappa, items: fleiss.items, meanItemAgreement, annotators };
}
