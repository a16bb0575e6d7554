import { sql, type Kysely } from 'kysely';

/**
 * Labels from people (Label Studio): one `label_batches` row per labeling hand-off (the rows a run
 * sent, how they were chosen, where they went, how the wait ended and the annotators' agreement),
 * one `label_items` row per chosen row (its key in the snapshot, why it was chosen, the champion's
 * prediction, the Label Studio task, and how its annotations resolved), and one `labels` row per
 * annotator and item (the annotator's current answer; an updated annotation replaces it). Training
 * reads resolved items by row key (lib/data/row-keys.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table label_batches (
      id bigserial primary key,
      model text not null,
      -- The labelingHandoff run that made it: a retried activity finds its batch instead of making another.
      workflow_id text not null unique,
      pipeline_workflow_id text not null,
      day date not null,
      dataset_id bigint not null references datasets(id),
      champion_version_id bigint references model_versions(id),
      classes jsonb not null,
      annotators_per_item integer not null check (annotators_per_item >= 1),
      conflict_rule text not null check (conflict_rule in ('majority', 'review')),
      selection jsonb not null,
      status text not null default 'open' check (status in ('open', 'labeled', 'proceeded', 'failed')),
      status_reason text,
      project_id integer,
      tasks_key text,
      agreement jsonb,
      created_at timestamptz not null default now(),
      closed_at timestamptz
    )
  `.execute(db);
  await sql`create index label_batches_model_status on label_batches (model, status)`.execute(db);
  await sql`
    create table label_items (
      id bigserial primary key,
      batch_id bigint not null references label_batches(id),
      row_key text not null,
      row_index integer not null,
      reason text not null check (reason in ('uncertainty', 'random')),
      margin double precision,
      probabilities jsonb,
      task_id integer,
      resolution text check (resolution in ('pending', 'unanimous', 'majority', 'review', 'tie')),
      value integer,
      agreement double precision,
      constraint label_items_batch_row_unique unique (batch_id, row_key)
    )
  `.execute(db);
  await sql`create index label_items_task on label_items (task_id)`.execute(db);
  await sql`
    create table labels (
      id bigserial primary key,
      batch_id bigint not null references label_batches(id),
      item_id bigint not null references label_items(id),
      value integer not null check (value >= 0),
      annotator text not null check (btrim(annotator) <> ''),
      annotation_id text,
      labeled_at timestamptz not null,
      source text not null check (source in ('webhook', 'poll', 'import')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint labels_item_annotator_unique unique (item_id, annotator)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists labels`.execute(db);
  await sql`drop table if exists label_items`.execute(db);
  await sql`drop table if exists label_batches`.execute(db);
}
