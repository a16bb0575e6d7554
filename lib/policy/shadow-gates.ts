import type { ShadowSpec } from '../config/model-spec';

/** What the shadow phase observed; computed from the prediction log and feedback. */
export interface ShadowObservation {
  /** Mirrored requests with both a champion and a candidate prediction. */
  requests: number;
  candidateErrors: number;
  /** Share of paired requests where both predicted the same label; null without requests. */
  agreement: number | null;
  latencyMs: { championP50: number | null; championP99: number | null; candidateP50: number | null; candidateP99: number | null };
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
const ms = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);

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
  const { championP99, candidateP99 } = observed.latencyMs;
  const ratio = championP99 && candidateP99 !== null ? candidateP99 / championP99 : null;
  checks.push({
    name: 'latencyP99',
    passed: ratio !== null && ratio <= spec.maxLatencyP99Ratio,
    message: `p99 latency ${ms(candidateP99)} vs champion ${ms(championP99)} (ratio ${f3(ratio)}, allowed ${spec.maxLatencyP99Ratio})`,
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
