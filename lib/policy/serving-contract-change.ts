import type { ContractFeature } from '../spec/serving-contract';

/**
 * How a run's features differ from the serving champion's contract, in what a client sees:
 * a feature added (the gateway would answer 400 "missing feature" to requests without it),
 * removed (400 "unknown feature" to requests that still send it) or retyped (a number where a
 * string is expected, or the reverse). Features have no defaults (the gateway requires every
 * feature, null for a missing value), so each of these makes clients change their requests.
 * Order, `sql` and `maxCategories` are not client-visible and are not compared. Pure.
 */
export interface ServingContractChange {
  added: ContractFeature[];
  removed: ContractFeature[];
  retyped: { name: string; from: ContractFeature['kind']; to: ContractFeature['kind'] }[];
}

export function servingContractChange(served: readonly ContractFeature[], proposed: readonly ContractFeature[]): ServingContractChange {
  const servedByName = new Map(served.map((f) => [f.name, f]));
  const proposedByName = new Map(proposed.map((f) => [f.name, f]));
  return {
    added: proposed.filter((f) => !servedByName.has(f.name)).map((f) => ({ name: f.name, kind: f.kind })),
    removed: served.filter((f) => !proposedByName.has(f.name)).map((f) => ({ name: f.name, kind: f.kind })),
    retyped: proposed.flatMap((f) => {
      const before = servedByName.get(f.name);
      return before && before.kind !== f.kind ? [{ name: f.name, from: before.kind, to: f.kind }] : [];
    }),
  };
}

/** True when clients of the served contract would have to change their requests. */
export function isBreaking(change: ServingContractChange): boolean {
  return change.added.length + change.removed.length + change.retyped.length > 0;
}

/** "adds feature 'wind' (numeric); removes feature 'hour' (numeric); changes 'origin' from categorical to numeric", or '' when nothing changes. */
export function describeContractChange(change: ServingContractChange): string {
  return [
    ...change.added.map((f) => `adds feature '${f.name}' (${f.kind})`),
    ...change.removed.map((f) => `removes feature '${f.name}' (${f.kind})`),
    ...change.retyped.map((f) => `changes feature '${f.name}' from ${f.from} to ${f.to}`),
  ].join('; ');
}
