/**
 * The canary as its parent run shows it: the stage, the share of traffic on the candidate, the
 * bake time left, and every stage's analysis (the latest one of the stage in progress, with the
 * numbers of its last observation), then, once it ended, the outcome. The canary workflow sends
 * its progress to the pipeline run it belongs to (workflows/canary-rollout.ts); at its end the
 * pipeline builds the same view from the canary's result.
 */
import type { CanaryObservation, CanaryVerdict } from '../policy/canary-stage-analysis';
import type { MetricInterval } from '../policy/live-metric-comparison';
import type { CanarySpec } from '../spec/model-spec';
import { formatConfidence, formatCount, formatMetric } from '../stats/metric-format';
import { formatMilliseconds, quantileLabel } from '../stats/tail-quantile';
import { blocks, escapeText, table } from './markdown';
import { differenceWithInterval } from './offline-evidence';

/** A stage that has ended: passed, failed, or rolled back on request. */
export interface CanaryStageAnalysis {
  percent: number;
  verdict: 'pass' | 'fail' | 'rollback';
  reason: string;
  observation: CanaryObservation | null;
}

export interface CanaryProgress {
  candidateVersion: number;
  championVersion: number;
  /** The spec's stages in %, e.g. [1, 5, 25, 50, 100] (100: the candidate becomes the champion). */
  plan: readonly number[];
  bakeSeconds: number;
  maxBakeSeconds: number;
  /** Stages that have ended, in order. */
  stages: readonly CanaryStageAnalysis[];
  /** The stage in progress; null once the canary has ended. */
  current: {
    /** 1-based. */
    stage: number;
    percent: number;
    /** Workflow time the stage's traffic moved, ISO 8601. */
    startedAt: string;
    /** Seconds since then, at the latest analysis (or at the stage's start). */
    elapsedSeconds: number;
    /** The latest analysis of the stage: null before the first. */
    analysis: (CanaryVerdict & { at: string }) | null;
    observation: CanaryObservation | null;
  } | null;
  /** Set once the canary has ended. */
  outcome?: { outcome: 'promoted' | 'rolled_back'; reason: string };
}

type CanaryPlan = Pick<CanarySpec, 'stages' | 'bakeSeconds' | 'maxBakeSeconds'>;

/** Before the first stage: the plan only. */
export function canaryProgressStarting(spec: CanaryPlan, candidateVersion: number, championVersion: number): CanaryProgress {
  return { candidateVersion, championVersion, plan: spec.stages, bakeSeconds: spec.bakeSeconds, maxBakeSeconds: spec.maxBakeSeconds, stages: [], current: null };
}

/** The canary as it ended, from its result: every stage with its analysis and observation, and the outcome. */
export function canaryProgressFromResult(
  result: { outcome: 'promoted' | 'rolled_back'; reason: string; stages: readonly CanaryStageAnalysis[] },
  spec: CanaryPlan,
  candidateVersion: number,
  championVersion: number,
): CanaryProgress {
  return { ...canaryProgressStarting(spec, candidateVersion, championVersion), stages: result.stages, outcome: { outcome: result.outcome, reason: result.reason } };
}

export function renderCanaryEvidence(progress: CanaryProgress): string {
  const total = progress.plan.length;
  const { current } = progress;
  const heading = progress.outcome
    ? `### Canary: ${progress.outcome.outcome === 'promoted' ? `v${progress.candidateVersion} promoted: it serves all traffic` : `rolled back: all traffic is on champion v${progress.championVersion}`}`
    : current
      ? `### Canary: stage ${current.stage} of ${total}, ${current.percent}% of traffic on v${progress.candidateVersion}`
      : `### Canary of v${progress.candidateVersion}: starting`;
  const now = current && !progress.outcome ? currentStage(progress, current) : null;
  const outcome = progress.outcome ? escapeText(progress.outcome.reason) : null;
  const latest = current?.observation ?? [...progress.stages].reverse().find((st) => st.observation)?.observation ?? null;
  return blocks(heading, outcome, now, stageTable(progress), latest ? observationTable(latest) : null);
}

function currentStage(progress: CanaryProgress, current: NonNullable<CanaryProgress['current']>): string {
  const elapsed = Math.max(0, Math.round(current.elapsedSeconds));
  const left = Math.max(0, progress.bakeSeconds - elapsed);
  const bake = left > 0 ? `baking: ${elapsed} of ${progress.bakeSeconds} s, ${left} s left` : `baked ${elapsed} s (at least ${progress.bakeSeconds} s)`;
  const limit = `a stage still undecided after ${progress.maxBakeSeconds} s fails`;
  const analysis = current.analysis
    ? `Latest analysis (${current.analysis.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}): **${current.analysis.verdict}**: ${escapeText(current.analysis.reason)}`
    : 'No analysis yet.';
  return blocks(`Stage ${current.stage} started ${current.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}; ${bake}; ${limit}.`, analysis);
}

function stageTable(progress: CanaryProgress): string {
  const rows = progress.plan.map((percent, index) => {
    const ended = progress.stages[index];
    const isCurrent = progress.current?.stage === index + 1 && !progress.outcome;
    if (ended) return [String(index + 1), `${percent}%`, ended.verdict === 'pass' ? 'pass' : `**${ended.verdict}**`, escapeText(ended.reason)];
    if (isCurrent) return [String(index + 1), `${percent}%`, progress.current?.analysis?.verdict ?? 'starting', escapeText(progress.current?.analysis?.reason ?? 'traffic moved; first analysis pending')];
    return [String(index + 1), `${percent}%`, '-', percent === 100 ? 'all traffic: the candidate becomes the champion' : ''];
  });
  return table(['stage', 'share', 'verdict', 'analysis'], rows, ['right', 'right', 'left', 'left']);
}

/** The numbers of one analysis: traffic of both sides, the accuracy test's pairs and the loss test's intervals. */
function observationTable(o: CanaryObservation): string {
  const rate = (s: { requests: number; errors: number }) => (s.requests === 0 ? 'n/a' : (s.errors / s.requests).toFixed(4));
  const tail = (s: { latencyTail?: number | null; latencyP99: number | null }) => {
    const value = s.latencyTail !== undefined ? s.latencyTail : s.latencyP99;
    return value === null || value === undefined ? 'n/a' : formatMilliseconds(value);
  };
  const rows: string[][] = [
    ['requests', formatCount(o.canary.requests), formatCount(o.champion.requests), ''],
    ['error rate', rate(o.canary), rate(o.champion), ''],
    [`${quantileLabel(o.tailQuantile ?? 0.99)} latency`, tail(o.canary), tail(o.champion), ''],
  ];
  if (o.accuracy) {
    rows.push(['accuracy on paired labels', formatMetric(o.accuracy.canaryAccuracy), formatMetric(o.accuracy.championAccuracy), `${formatCount(o.accuracy.pairs)} pairs, ${formatCount(o.accuracy.discordant)} where one was right (canary ${formatCount(o.accuracy.canaryRight)})`]);
  }
  const decided = { accept_h0: 'not worse', accept_h1: '**worse**', continue: 'undecided' } as const;
  if (o.sprt) rows.push(['sequential accuracy test', '', '', `${decided[o.sprt.decision] ?? o.sprt.decision}, log LR ${o.sprt.logLikelihoodRatio.toFixed(2)} (bounds ${o.sprt.lowerBound.toFixed(2)}, ${o.sprt.upperBound.toFixed(2)})`]);
  if (o.losses) {
    const cs = `${formatConfidence(1 - o.losses.alpha)} confidence sequence`;
    const loss = (label: string, m: MetricInterval) => [label, formatMetric(m.candidate), formatMetric(m.champion), `${differenceWithInterval(m.delta, m.low, m.high)} (${cs}, ${formatCount(o.losses!.pairs)} pairs)`];
    rows.push(loss('log loss', o.losses.logLoss), loss('Brier score', o.losses.brier), ['ROC AUC (reported, not tested)', formatMetric(o.losses.auc.canary), formatMetric(o.losses.auc.champion), '']);
  }
  return blocks('Latest observation (the canary and the champion over the same period):', table(['measure', 'canary', 'champion', 'test'], rows, ['left', 'right', 'right', 'left']));
}
