import { z } from 'zod';
import type { NotifyFormat } from '../config/environment';
import { NOTIFICATION_EVENTS, type NotificationEvent, type NotifiedRun } from './notification-event';

/**
 * The bodies Retrain posts to webhooks, one template per format, each checked against its schema
 * before it is sent: `json`, Retrain's own payload (the contract a receiver parses), and `slack`,
 * a message for a Slack incoming webhook (Block Kit: a header, the evidence, a link to the run).
 */

/** Version of the JSON payload; a change that is not an added field gets a new one. */
export const NOTIFICATION_SCHEMA = 'retrain.notification/v1';

/** The `json` format: everything the event and its run say, for a receiver that routes or stores it. */
export const JsonNotificationPayload = z.strictObject({
  schema: z.literal(NOTIFICATION_SCHEMA),
  event: z.enum(NOTIFICATION_EVENTS),
  key: z.string().min(1),
  model: z.string().min(1),
  at: z.iso.datetime(),
  title: z.string().min(1),
  candidateVersion: z.number().int().positive().nullable(),
  championVersion: z.number().int().positive().nullable(),
  evidence: z.strictObject({ offline: z.string().nullable(), shadow: z.string().nullable(), approvers: z.array(z.string()) }),
  detail: z.string().nullable(),
  actor: z.string().nullable(),
  run: z.strictObject({ namespace: z.string(), workflowId: z.string(), runId: z.string(), url: z.url().nullable() }),
  links: z.strictObject({ report: z.url().nullable() }),
});
export type JsonNotificationPayload = z.infer<typeof JsonNotificationPayload>;

/** Slack's limits: a header's text, a section's text. */
const SLACK_HEADER_CHARS = 150;
const SLACK_SECTION_CHARS = 3000;

const slackText = (type: 'plain_text' | 'mrkdwn', max: number) => z.strictObject({ type: z.literal(type), text: z.string().min(1).max(max) });

/** The `slack` format: the subset of Block Kit this template uses. */
export const SlackNotificationPayload = z.strictObject({
  /** Shown in the notification itself and where blocks cannot be. */
  text: z.string().min(1),
  blocks: z.array(
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('header'), text: slackText('plain_text', SLACK_HEADER_CHARS) }),
      z.strictObject({ type: z.literal('section'), text: slackText('mrkdwn', SLACK_SECTION_CHARS) }),
      z.strictObject({ type: z.literal('context'), elements: z.array(slackText('mrkdwn', SLACK_SECTION_CHARS)).min(1).max(10) }),
    ]),
  ),
});
export type SlackNotificationPayload = z.infer<typeof SlackNotificationPayload>;

/** The JSON body for a target of this format, checked against the format's schema. */
export function renderNotification(format: NotifyFormat, event: NotificationEvent, run: NotifiedRun): string {
  const payload = format === 'slack' ? SlackNotificationPayload.parse(slackPayload(event, run)) : JsonNotificationPayload.parse(jsonPayload(event, run));
  return JSON.stringify(payload);
}

export function jsonPayload(event: NotificationEvent, run: NotifiedRun): JsonNotificationPayload {
  return {
    schema: NOTIFICATION_SCHEMA,
    event: event.event,
    key: event.key,
    model: event.model,
    at: event.at,
    title: event.title,
    candidateVersion: event.candidateVersion,
    championVersion: event.championVersion,
    evidence: { offline: event.evidence.offline, shadow: event.evidence.shadow, approvers: [...event.evidence.approvers] },
    detail: event.detail,
    actor: event.actor,
    run: { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, url: run.url },
    links: { report: event.links.report },
  };
}

export function slackPayload(event: NotificationEvent, run: NotifiedRun): SlackNotificationPayload {
  const evidence = [
    event.evidence.offline && `*Offline:* ${escapeSlack(event.evidence.offline)}`,
    event.evidence.shadow && `*Shadow:* ${escapeSlack(event.evidence.shadow)}`,
    event.evidence.approvers.length > 0 ? `*Who may decide:* ${escapeSlack(event.evidence.approvers.join(', '))}` : null,
  ].filter((line): line is string => Boolean(line));
  const links = [
    run.url ? `<${run.url}|Open the run in the Temporal UI>` : null,
    event.links.report ? `<${event.links.report}|evaluation report>` : null,
    `\`${escapeSlack(run.workflowId)}\``,
  ].filter((part): part is string => part !== null);
  const sections = [event.detail ? escapeSlack(event.detail) : null, evidence.length > 0 ? evidence.join('\n') : null].filter((text): text is string => text !== null);
  return {
    text: run.url ? `${escapeSlack(event.title)}: ${run.url}` : escapeSlack(event.title),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(event.title, SLACK_HEADER_CHARS) } },
      ...sections.map((text) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: cut(text, SLACK_SECTION_CHARS) } })),
      { type: 'context', elements: [{ type: 'mrkdwn', text: links.join(' · ') }] },
    ],
  };
}

/** Slack's mrkdwn reserves &, < and > (links and mentions are written with them). */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
