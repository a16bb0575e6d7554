/**
 * Pairs the canary's labelled outcomes with the champion's in the order their labels arrived:
 * each canary outcome with the first unpaired champion outcome whose label arrived after it.
 * The two sides serve different requests, so there is no natural pair; pairing by arrival puts
 * side by side outcomes of the same moment, so a change of traffic over time (the delay rate of
 * the morning against the evening) reaches both sides of a pair alike. New labels only append
 * pairs (a canary outcome waits until a later champion label arrives), so each look continues
 * the same sequence: what sequential tests over the pairs need. Used by the canary's accuracy
 * test (./paired-accuracy-test) and its loss test (./paired-loss-test), which see the same pairs.
 */

/** Something whose label arrived at `arrival` (a feedback id: larger is later). */
export interface Arrived {
  arrival: bigint;
}

export function pairByArrival<C extends Arrived, H extends Arrived>(canary: readonly C[], champion: readonly H[]): Array<[C, H]> {
  const byArrival = (a: Arrived, b: Arrived) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : 0);
  const canaryInOrder = [...canary].sort(byArrival);
  const championInOrder = [...champion].sort(byArrival);
  const pairs: Array<[C, H]> = [];
  let j = 0;
  for (const c of canaryInOrder) {
    while (j < championInOrder.length && championInOrder[j]!.arrival <= c.arrival) j++;
    if (j >= championInOrder.length) break;
    pairs.push([c, championInOrder[j++]!]);
  }
  return pairs;
}
