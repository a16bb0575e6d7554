import type { ShadowSpec } from '../spec/model-spec';
import { formatMilliseconds, quantileLabel } from '../stats/tail-quantile';

/** What the shadow phase observed; computed from the prediction log and feedback. */
export interface ShadowObservation {
  /** Mirrored requests with both a champion and a candidate prediction. */
  requests: number;
  candidateErrors: number;
  /** Share of paired requests where both predicted the same label; null without requests. */
  agreement: number | null;
  latencyMs: {
    championP50: number | null;
    championP99: number | null;
    candidateP50: number | null;
    candidateP99: number | null;
    /**
     * Each side at `tailQuantile`, the latency quantile the pairs support (see supportedTailQuantile),
     * which the gate compares. Absent in observations recorded before it existed: p99 then.
     */
    championTail?: number | null;
    candidateTail?: number | null;
    tailQuantile?: number;
    /** Request pairs both models scored alone (the latency sample). */
    timedPairs?: number;
  };
  /** Requests whose label arrived, and each model's accuracy on them. */
  labelled: { rows: number; championAccuracy: number | null; candidateAccuracy: number | null };
}

export interface ShadowCheck {
  name: 'requests' | 'errors' | 'agreement' | 'latencyP99' | 'accuracy';
  passed: boolean;
  message: string;
}

export interface ShadowVerdict {
  passed: boolean;
  checks: ShadowCheck[];
  reason: string;
}

const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
const ms = (x: number | null) => (x === null ? 'n/a' : formatMilliseconds(x));

/** Applies the shadow gates of a spec to what the shadow phase observed. Pure: the workflow calls it. */
export function judgeShadow(observed: ShadowObservation, spec: ShadowSpec): ShadowVerdict {
  const checks: ShadowCheck[] = [];
  checks.push({
    name: 'requests',
    passed: observed.requests >= spec.minRequests,
    message: `${observed.requests} mirrored requests (need ${spec.minRequests})`,
  });
  checks.push({
    name: 'errors',
    passed: observed.candidateErrors === 0,
    message: `${observed.candidateErrors} candidate errors on mirrored requests`,
  });
  checks.push({
    name: 'agreement',
    passed: observed.agreement !== null && observed.agreement >= spec.minAgreement,
    message: `agreement with the champion ${f3(observed.agreement)} (need ${spec.minAgreement})`,
  });
  const latency = observed.latencyMs;
  const championTail = latency.championTail !== undefined ? latency.championTail : latency.championP99;
  const candidateTail = latency.candidateTail !== undefined ? latency.candidateTail : latency.candidateP99;
  const ratio = championTail && candidateTail !== null ? candidateTail / championTail : null;
  const sample = latency.timedPairs !== undefined ? ` over ${latency.timedPairs} requests both scored alone` : '';
  checks.push({
    name: 'latencyP99',
    passed: ratio !== null && ratio <= spec.maxLatencyP99Ratio,
    message: `${quantileLabel(latency.tailQuantile ?? 0.99)} latency ${ms(candidateTail)} vs champion ${ms(championTail)}${sample} (ratio ${f3(ratio)}, allowed ${spec.maxLatencyP99Ratio})`,
  });
  const { rows, championAccuracy, candidateAccuracy } = observed.labelled;
  if (rows >= spec.minLabels && championAccuracy !== null && candidateAccuracy !== null) {
    const drop = championAccuracy - candidateAccuracy;
    checks.push({
      name: 'accuracy',
      passed: drop <= spec.maxAccuracyDrop,
      message: `accuracy on ${rows} labelled requests ${f3(candidateAccuracy)} vs champion ${f3(championAccuracy)} (allowed drop ${spec.maxAccuracyDrop})`,
    });
  }
  const failed = checks.filter((c) => !c.passed);
  const labelNote = rows < spec.minLabels ? `; ${rows} labels so far, accuracy not gated below ${spec.minLabels}` : '';
  return {
    passed: failed.length === 0,
    checks,
    reason: failed.length > 0 ? `shadow failed: ${failed.map((c) => c.message).join('; ')}` : `shadow passed: ${checks.map((c) => c.message).join('; ')}${labelNote}`,
  };
}
