import path from 'node:path';
import { Command, Option } from 'commander';
import { loadEnvironment } from '../lib/config/environment';
import { ALL_QUEUE_KINDS } from '../worker/retrain-workers';
import { installWorkerLogging } from '../worker/worker-logging';
import { approversCommand } from './commands/approvers';
import { championRollbackCommand } from './commands/champion-rollback';
import { demoCommand } from './commands/demo';
import { driftCommand, driftScheduleCommand, type DriftCommandOptions } from './commands/drift';
import { pendingCommand } from './commands/pending';
import { predictCommand } from './commands/predict';
import { promotionDecisionCommand, type PromotionDecisionCommand } from './commands/promotion-decision';
import { prepCommand } from './commands/prep';
import { reportCommand, type ReportCommandOptions } from './commands/report';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';
import { DEFAULT_TRAFFIC_SEED } from '../lib/traffic/labelled-traffic';
import { trafficCommand, type TrafficCommandOptions } from './commands/traffic';
import { upCommand } from './commands/up';
import { gatewayCommand } from './commands/gateway';
import { gatewayKeyCreateCommand } from './commands/gateway-key';
import { labelsImportCommand } from './commands/labels';
import { workerCommand } from './commands/worker';

const EXAMPLE_SPEC = path.join(__dirname, '..', 'examples', 'flight-delay', 'model.json');
/** The commands whose process runs workers: they export the Temporal SDK's metrics when RETRAIN_TEMPORAL_METRICS_PORT is set. */
const WORKER_COMMANDS = new Set(['worker', 'up', 'demo']);

async function main(): Promise<void> {
  // The pinned AWS SDK supports Node 20; its notice about future releases is noise on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = new Command('retrain').description('Keeps ML models fresh: durable retraining pipelines on Temporal.').showHelpAfterError();
  // The Temporal runtime is installed once, before the command runs; its metrics exporter only in a process that runs workers.
  program.hook('preAction', (_program, action) => {
    const env = loadEnvironment();
    const { host, temporalPort } = env.workerMetrics;
    const exportsTemporalMetrics = WORKER_COMMANDS.has(action.name()) && temporalPort !== null;
    installWorkerLogging(env.logLevel, { temporalMetricsBindAddress: exportsTemporalMetrics ? `${host.includes(':') ? `[${host}]` : host}:${temporalPort}` : null });
  });
  const specOption = () => new Option('--spec <file>', 'model spec (JSON)').default(EXAMPLE_SPEC, 'examples/flight-delay/model.json');

  program
    .command('up')
    .description('start Temporal (with Web UI), Postgres, S3, the inference gateway and a worker; Ctrl-C stops everything')
    .action(async () => upCommand(loadEnvironment()));

  program
    .command('demo')
    .description('start the embedded stack, prepare flight-delay data and retrain for two consecutive days')
    .addOption(specOption())
    .option('--day <YYYY-MM-DD>', 'first day to retrain for', '2001-01-09')
    .option('--keep-running', 'keep the stack up after the demo until Ctrl-C', false)
    .action(async (opts: { spec: string; day: string; keepRunning: boolean }) =>
      demoCommand(loadEnvironment(), { specFile: opts.spec, firstDay: opts.day, keepRunning: opts.keepRunning }),
    );

  program
    .command('prep')
    .description("write the example's daily partitions to the spec's source (needs `retrain up` for S3 sources)")
    .addOption(specOption())
    .requiredOption('--from <YYYY-MM-DD>', 'first day')
    .requiredOption('--to <YYYY-MM-DD>', 'last day (inclusive)')
    .action(async (opts: { spec: string; from: string; to: string }) => prepCommand(loadEnvironment(), { specFile: opts.spec, from: opts.from, to: opts.to }));

  program
    .command('run')
    .description('run the retraining pipeline for one day on the running stack')
    .addOption(specOption())
    .requiredOption('--day <YYYY-MM-DD>', 'the held-out day; the training window precedes it')
    .option('--no-wait', 'start the run and return')
    .option('--breaking-change', "accept a spec whose features differ from the serving champion's (added, removed or retyped): its clients must change their requests", false)
    .action(async (opts: { spec: string; day: string; wait: boolean; breakingChange: boolean }) =>
      runCommand(loadEnvironment(), { specFile: opts.spec, day: opts.day, wait: opts.wait, breakingChange: opts.breakingChange }),
    );

  program
    .command('status')
    .description("list a model's versions and their stages, what is served, and the latest traffic changes")
    .option('--model <name>', 'model name', 'flight-delay')
    .action(async (opts: { model: string }) => statusCommand(loadEnvironment(), opts));

  program
    .command('report')
    .description("print the link to a version's evaluation report (the gateway's stable /reports/ URL, or a presigned S3 link)")
    .option('--model <name>', 'model name', 'flight-delay')
    .option('--version <n>', 'model version (default: the newest with a report)', positiveInteger('--version'))
    .option('--open', "open the link in the desktop's browser", false)
    .option('--html', "print the report's HTML instead of its link", false)
    .action(async (opts: ReportCommandOptions) => reportCommand(loadEnvironment(), opts));

  const decisions: Array<[Exclude<PromotionDecisionCommand, 'rollback'>, string]> = [
    ['approve', 'approve the candidate a pipeline run is waiting on (same as the approvePromotion Update in the Temporal UI)'],
    ['reject', 'reject the candidate a pipeline run is waiting on (rejectPromotion)'],
  ];
  for (const [name, description] of decisions) {
    program
      .command(name)
      .description(description)
      .option('--model <name>', 'model name', 'flight-delay')
      .option('--day <YYYY-MM-DD>', "the run's day (its workflow id is retrain/<model>/<day>)")
      .option('--workflow-id <id>', 'the run, by its workflow id (as `retrain pending` lists it), instead of --day')
      .requiredOption('--approver <name>', "your name; must be one of the model's approvers (retrain approvers show)")
      .option('--reason <text>', 'why, for the record')
      .action(async (opts: { model: string; day?: string; workflowId?: string; approver: string; reason?: string }) => promotionDecisionCommand(loadEnvironment(), name, opts));
  }

  program
    .command('rollback')
    .description("with --day or --workflow-id: roll back that run's canary now; without: roll the model's champion back after its promotion (the previous champion, or --to-version)")
    .option('--model <name>', 'model name', 'flight-delay')
    .option('--day <YYYY-MM-DD>', "the run whose canary to roll back (its workflow id is retrain/<model>/<day>)")
    .option('--workflow-id <id>', 'the run whose canary to roll back, by its workflow id, instead of --day')
    .option('--to-version <n>', 'without --day: the archived version to restore (default: the champion the current one replaced)', positiveInteger('--to-version'))
    .requiredOption('--approver <name>', "your name; must be one of the model's approvers (retrain approvers show)")
    .option('--reason <text>', 'why, for the record (required to roll a champion back)')
    .action(async (opts: { model: string; day?: string; workflowId?: string; toVersion?: number; approver: string; reason?: string }) => {
      if (opts.day !== undefined || opts.workflowId !== undefined) {
        if (opts.toVersion !== undefined) throw new Error('--to-version is for rolling a champion back: leave out --day and --workflow-id (a canary goes back to its champion)');
        return promotionDecisionCommand(loadEnvironment(), 'rollback', opts);
      }
      if (opts.reason === undefined || opts.reason.trim() === '') throw new Error('say why with --reason: a champion rollback is recorded with its reason');
      return championRollbackCommand(loadEnvironment(), { model: opts.model, toVersion: opts.toVersion, approver: opts.approver, reason: opts.reason });
    });

  program
    .command('pending')
    .description('list every run waiting for a person to approve or reject: model, day, candidate, how long it has waited, who may approve')
    .option('--model <name>', 'only this model')
    .option('--json', 'print JSON (with each run id and Temporal UI link)', false)
    .action(async (opts: { model?: string; json: boolean }) => pendingCommand(loadEnvironment(), opts));

  const approvers = program.command('approvers').description("who may approve a model's promotions: the list the approval Updates are checked against (a run's spec may only narrow it)");
  approvers
    .command('set')
    .description("set a model's approvers (the whole list); the change is recorded with who, when and why")
    .requiredOption('--model <name>', 'model name')
    .argument('<names...>', 'the approvers, e.g. alice bob')
    .requiredOption('--by <name>', 'who makes the change, for the record')
    .requiredOption('--reason <text>', 'why, for the record')
    .action(async (names: string[], opts: { model: string; by: string; reason: string }) =>
      approversCommand(loadEnvironment(), { action: 'set', model: opts.model, approvers: names, by: opts.by, reason: opts.reason }),
    );
  approvers
    .command('show')
    .description("show a model's approvers and every change to them")
    .requiredOption('--model <name>', 'model name')
    .action(async (opts: { model: string }) => approversCommand(loadEnvironment(), { action: 'show', model: opts.model }));

  const labels = program.command('labels').description('labels from people (models whose spec has `labels`)');
  labels
    .command('import')
    .description("store the annotations of a Label Studio JSON export (Export → JSON) for Retrain's batches, and signal the runs waiting for them")
    .argument('<file>', 'the exported JSON file')
    .action(async (file: string) => labelsImportCommand(loadEnvironment(), file));

  program
    .command('predict')
    .description("batch inference: score one day's snapshot with a model version and store the predictions (Parquet) in S3")
    .option('--model <name>', 'model name', 'flight-delay')
    .requiredOption('--day <YYYY-MM-DD>', 'the partition to score (must have been ingested)')
    .option('--version <n>', 'model version (default: the champion)', positiveInteger('--version'))
    .action(async (opts: { model: string; day: string; version?: number }) => predictCommand(loadEnvironment(), opts));

  program
    .command('traffic')
    .description("replay an ingested day's flights to the gateway, each prediction followed by its true label: live traffic for the shadow and canary stages")
    .option('--model <name>', 'model name', 'flight-delay')
    .requiredOption('--day <YYYY-MM-DD>', 'the day whose rows are replayed (must have been ingested)')
    .option('--seconds <n>', 'how long to send', positiveInteger('--seconds'), 60)
    .option('--concurrency <n>', 'clients sending at once', positiveInteger('--concurrency'), 4)
    .option('--rows <n>', 'rows sampled across the day to cycle through', positiveInteger('--rows'), 5000)
    .option('--seed <n>', 'seed of the sample (the same seed replays the same rows in the same order)', integer('--seed'), DEFAULT_TRAFFIC_SEED)
    .option('--gateway <url>', 'the gateway (default: RETRAIN_GATEWAY_URL, or the one `retrain up` started)')
    .action(async (opts: TrafficCommandOptions) => trafficCommand(loadEnvironment(), opts));

  program
    .command('drift')
    .description("run one drift monitor pass now: the prediction log's window (and partitions ingested in it) against the champion's training data; prints the report and starts a retraining run when the drift crosses the spec's trigger")
    .option('--model <name>', 'model name', 'flight-delay')
    .option('--spec <file>', "model spec (default: the model's spec recorded by its last run)")
    .option('--window <duration>', "the window's length, e.g. 15m, 1h, 1d (default: the spec's monitoring.window)")
    .option('--end <iso>', "the window's end, e.g. 2026-12-01T19:00:00Z (default: now)")
    .option('--json', 'print the result and the stored report as JSON', false)
    .action(async (opts: DriftCommandOptions) => driftCommand(loadEnvironment(), opts));

  program
    .command('drift-schedule')
    .description("create or update the model's drift monitor Temporal Schedule (drift/<model>) from its spec's monitoring block")
    .option('--model <name>', 'model name', 'flight-delay')
    .option('--spec <file>', "model spec (default: the model's spec recorded by its last run)")
    .action(async (opts: { model: string; spec?: string }) => driftScheduleCommand(loadEnvironment(), opts));

  program
    .command('worker')
    .description('run a worker against existing services (TEMPORAL_ADDRESS, DATABASE_URL, S3_*), or the stack of `retrain up`')
    .option('--queues <kinds>', `task queue kinds to poll (${ALL_QUEUE_KINDS.join(',')})`, ALL_QUEUE_KINDS.join(','))
    .action(async (opts: { queues: string }) => workerCommand(loadEnvironment(), opts));

  program
    .command('gateway')
    .description('run an inference gateway (GATEWAY_HOST, GATEWAY_PORT) against existing services (DATABASE_URL, S3_*), or the stack of `retrain up`')
    .action(async () => gatewayCommand(loadEnvironment()));

  const gatewayKey = program.command('gateway-key').description("API keys for the gateway's predict, infer and feedback endpoints");
  gatewayKey
    .command('create')
    .description('make a new API key: prints the key once and its hashed entry for the keys file (RETRAIN_GATEWAY_API_KEYS_FILE)')
    .requiredOption('--model <names>', "models the key may call, comma-separated, or '*' for every model", collect, [])
    .requiredOption('--scope <scopes>', 'what the key may do: predict, feedback (comma-separated)', collect, [])
    .option('--name <name>', 'names the key in the file and in messages (default: key-<first hash digits>)')
    .option('--keys-file <file>', 'add the entry to this keys file (created when missing)')
    .action(async (opts: { model: string[]; scope: string[]; name?: string; keysFile?: string }) =>
      gatewayKeyCreateCommand({ models: opts.model, scopes: opts.scope, name: opts.name, keysFile: opts.keysFile }),
    );

  await program.parseAsync(process.argv);
}

/** A commander option parser that collects repeated values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A commander option parser for whole numbers ≥ 1 that names the option when the value is not one. */
function integer(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n)) throw new Error(`${option} must be an integer, got '${value}'`);
    return n;
  };
}

function positiveInteger(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${option} must be a positive integer, got '${value}'`);
    return n;
  };
}

/** The whole cause chain, e.g. "Workflow execution failed: Activity task failed: partition ... not found". */
function describeError(err: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error && messages.length < 10; e = e.cause) {
    if (e.message !== messages.at(-1)) messages.push(e.message);
  }
  return messages.length > 0 ? messages.join(': ') : String(err);
}

main().catch((err) => {
  console.error(`retrain: ${describeError(err)}`);
  process.exit(1);
});
