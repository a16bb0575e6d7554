import { PERMANENT_ERROR_TYPES } from '../lib/policy/permanent-errors';

/**
 * Timeout and retry profiles of every activity call, declared once; workflows spread them
 * into proxyActivities with the task queue. Each profile either has a `maximumAttempts`
 * or says why it retries without limit. Errors retrying cannot fix
 * (lib/policy/permanent-errors.ts) are never retried: activities raise them as
 * non-retryable failures and every profile also lists them in nonRetryableErrorTypes.
 *
 * Changing a value here changes only future schedules (a history records the options an
 * activity was scheduled with), so it is replay-safe.
 */

const nonRetryableErrorTypes = [...PERMANENT_ERROR_TYPES];

export const activityOptions = {
  /**
   * Control-queue Postgres writes: run start, offline verdict, promotion decision, rejection,
   * approval events. 10 attempts, 1 s doubling to 30 s apart (about 2.5 minutes), ride out a
   * database restart or failover; a longer outage fails the run with its error instead of
   * leaving it hanging. Every one of these is idempotent, so a rerun of the day repeats nothing.
   */
  bookkeeping: {
    // Single-row writes: an attempt on a worker that died is retried after 30 s, not a minute.
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /**
   * Recording a finished run (recordPipelineFinish), succeeded or failed. No attempt limit:
   * it is the last thing a run does, often from a non-cancellable scope after a failure, and
   * a limit would leave `pipeline_runs` saying "running" for a run that ended. It keeps
   * trying every minute until Postgres is back; a permanent error still fails it at once.
   */
  runOutcome: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
  },

  /**
   * Data queue: ingesting a partition (heartbeats per partition) and registering datasets.
   * 10 attempts, 1 s doubling to 30 s apart (about 2.5 minutes): an S3 or Postgres outage of
   * that long is ridden out (npm run test:faults stops S3 for 30 s mid-ingest); bad data is
   * permanent and fails at once.
   */
  ingestion: {
    startToCloseTimeout: '5 minutes',
    // ingestPartition beats every 5 s (activities/heartbeat-while.ts): a dead worker's partition is retried after 20 s, not 5 minutes.
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /**
   * Train queue: the training context and training. The heartbeat timeout is the default;
   * trainModel's comes from the spec (`training.heartbeatTimeoutSeconds`). 10 attempts, 1 s
   * doubling to 30 s apart: each retry resumes from the last checkpoint, and the attempts span
   * about 2.5 minutes of S3 or Postgres being away (snapshots are read and the model written
   * there); more worker crashes than that in one run mean something else is wrong.
   */
  training: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /** Eval queue: scoring candidate and champion on the holdout. 10 attempts over about 2.5 minutes, like training. */
  evaluation: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /**
   * Shadow and canary steps on the control queue: traffic moves forward, polls of the
   * prediction log, storing the shadow verdict, crowning the champion. 10 attempts (about
   * 2.5 minutes, as bookkeeping): when they run out the shadow fails (the candidate is not
   * promoted) or the canary fails, which first sends all traffic back to the champion.
   */
  liveStep: {
    startToCloseTimeout: '2 minutes',
    // The two prediction-log queries beat every 5 s (heartbeat-while); the other steps end within
    // a second. A worker killed mid-step is noticed after 20 s, so the shadow or canary goes on.
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /**
   * A drift monitor pass (runDriftPass, eval queue): downloads the reference snapshots, aggregates
   * them and the prediction log's window, scores the champion's held-out day for the calibration,
   * stores the report. It heartbeats every 5 s (heartbeat-while); 10 attempts over about 2.5
   * minutes ride out an S3 or Postgres outage; a stored report is found again, so a retry repeats nothing.
   */
  driftPass: {
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  },

  /**
   * Notifying webhooks (sendNotification). The activity retries each delivery itself with
   * backoff (RETRAIN_NOTIFY_MAX_ATTEMPTS, 1 s doubling to 30 s) and records every attempt; it
   * fails only when Postgres cannot record, which these 5 attempts (1 s doubling to 30 s) ride
   * out for a short restart. The workflow ignores a failure (a notification never fails a run).
   * Up to 15 minutes: 20 attempts of 10 s with their waits; it heartbeats every 5 s.
   */
  notification: {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
  },

  /**
   * Sending a labeling batch to Label Studio (sendLabelBatch: project, webhook, task import). No
   * attempt limit, 1 s doubling to 1 minute apart: the batch waits for people for hours or days,
   * so a Label Studio that is down or restarting is waited for rather than failing the run; a
   * refusal of the request itself (LabelStudioRejected: a bad token or config) fails at once.
   * Idempotent: tasks already imported are found by their item id.
   */
  labelStudioSend: {
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
  },

  /**
   * Reading a batch's annotations from Label Studio (syncLabelBatch), on a webhook's signal or a
   * poll. 3 attempts over a few seconds: a failed read does not fail the run, the wait notes it in
   * the run's details and the next poll (or webhook) reads again, so Label Studio being away for
   * longer only delays the labels.
   */
  labelStudioSync: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3, nonRetryableErrorTypes },
  },

  /**
   * Sending all traffic back to the champion (rollbackCanary), and rolling a champion back after
   * its promotion (restoreChampion). No attempt limit: giving up would leave a candidate that
   * failed its analysis, or a version that someone asked to roll back, serving users. It keeps
   * trying every 10 s until Postgres takes the change; a permanent error (e.g. the version row is
   * gone) still fails it at once.
   */
  trafficRollback: {
    // One transaction; a stuck attempt is abandoned quickly so the next one can move the traffic.
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes },
  },
} as const;
