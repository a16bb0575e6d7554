import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { pairedAccuracySprt, type LabelledPrediction } from '../../lib/stats/paired-accuracy-test';
import { bernoulliSprt } from '../../lib/stats/sequential-probability-ratio-test';

/** Live traffic: each label goes to the canary with probability `share`, the prediction right with that model's accuracy. */
function traffic(n: number, share: number, canaryAccuracy: number, championAccuracy: number, next: () => number) {
  const canary: LabelledPrediction[] = [];
  const champion: LabelledPrediction[] = [];
  for (let i = 0; i < n; i++) {
    if (next() < share) canary.push({ arrival: BigInt(i), correct: next() < canaryAccuracy });
    else champion.push({ arrival: BigInt(i), correct: next() < championAccuracy });
  }
  return { canary, champion };
}

const options = { alpha: 0.05, beta: 0.1, minEffect: 0.05 };

describe('pairedAccuracySprt', () => {
  it('pairs each canary label with the first later champion label, and counts only discordant pairs', () => {
    const at = (arrival: number, correct: boolean): LabelledPrediction => ({ arrival: BigInt(arrival), correct });
    const result = pairedAccuracySprt(
      [at(1, true), at(3, false), at(4, true), at(9, true)],
      [at(0, false), at(2, false), at(5, true), at(6, false), at(7, true)],
      options,
    );
    // 1↔2 (right, wrong), 3↔5 (wrong, right), 4↔6 (right, wrong); 9 has no later champion label yet.
    expect(result).toMatchObject({ pairs: 3, discordant: 3, canaryRight: 2, canaryAccuracy: 2 / 3, championAccuracy: 1 / 3 });
    expect(result.sprt.observations).toBe(3);
    expect(result.sprt.p0).toBe(0.5);
  });

  it('keeps its false-alarm rate below alpha when both models are equally accurate, at any accuracy and canary share', () => {
    for (const [accuracy, share] of [[0.87, 0.1], [0.6, 0.5], [0.95, 0.25]] as const) {
      const next = mulberry32(7);
      let alarms = 0;
      const runs = 400;
      for (let run = 0; run < runs; run++) {
        const { canary, champion } = traffic(4000, share, accuracy, accuracy, next);
        if (pairedAccuracySprt(canary, champion, options).sprt.decision === 'accept_h1') alarms++;
      }
      // Wald's bound: at most alpha / (1 - beta) ≈ 0.056; 400 runs leave about ±0.02 of noise.
      expect(alarms / runs, `accuracy ${accuracy}, share ${share}`).toBeLessThan(options.alpha / (1 - options.beta) + 0.03);
    }
  });

  it('stops a clear loser early and accepts an equal model once the data suffices', () => {
    const next = mulberry32(11);
    const loser = traffic(2000, 0.1, 0.5, 0.87, next);
    const lost = pairedAccuracySprt(loser.canary, loser.champion, options);
    expect(lost.sprt.decision).toBe('accept_h1');
    expect(lost.sprt.observations).toBeLessThan(40);

    const equal = traffic(20_000, 0.1, 0.87, 0.87, next);
    const held = pairedAccuracySprt(equal.canary, equal.champion, options);
    expect(held.sprt.decision).toBe('accept_h0');
    expect(held.canaryAccuracy!).toBeCloseTo(0.87, 1);
  });

  it('holds alpha where the one-sample test against the champion\'s observed rate, looked at repeatedly, does not', () => {
    const next = mulberry32(5);
    let paired = 0;
    let oneSample = 0;
    const runs = 400;
    for (let run = 0; run < runs; run++) {
      const { canary, champion } = traffic(3000, 0.5, 0.85, 0.85, next);
      if (pairedAccuracySprt(canary, champion, options).sprt.decision === 'accept_h1') paired++;
      // The previous design: every 100 labels, an SPRT of all canary outcomes against the champion's rate so far.
      for (let look = 100; look <= 3000; look += 100) {
        const seenChampion = champion.filter((h) => h.arrival < BigInt(look));
        const p0 = seenChampion.filter((h) => h.correct).length / Math.max(seenChampion.length, 1);
        const outcomes = canary.filter((c) => c.arrival < BigInt(look)).map((c) => (c.correct ? 1 : 0) as 0 | 1);
        const decision = bernoulliSprt(outcomes, { p0, ...options }).decision;
        if (decision === 'accept_h1') {
          oneSample++;
          break;
        }
        if (decision === 'accept_h0') break;
      }
    }
    expect(paired / runs).toBeLessThan(0.08);
    expect(oneSample / runs).toBeGreaterThan(2 * (paired / runs));
  });
});
