-- The `ops` schema: run history, quality results, quarantine, batches and the settings the
-- models join. Each table is created by the module that writes it (sqlfiles.table_ddl);
-- portable DDL (DuckDB, PostgreSQL, Spark's metadata store).

-- One row per run (orchestration/history.py).
create table if not exists ops.pipeline_runs (
    run_id varchar not null,
    started_at timestamp not null,
    ended_at timestamp,
    duration_seconds double,
    status varchar not null,      -- success, failed, interrupted
    steps varchar,                -- the steps asked for, comma-separated
    rows_in bigint,               -- raw rows staged by this run
    rows_out bigint,              -- rows of the last step that produced any
    retry_count integer,          -- retries over all steps
    error_message varchar,
    trigger varchar,              -- cli, schedule
    pid integer,
    host varchar,
    engine varchar
);

-- One row per step attempt (orchestration/history.py).
create table if not exists ops.step_runs (
    run_id varchar not null,
    step varchar not null,
    attempt integer not null,     -- 1 for the first try
    status varchar not null,      -- success, failed
    started_at timestamp not null,
    ended_at timestamp,
    duration_seconds double,
    rows_in bigint,
    rows_out bigint,
    retry_count integer,          -- attempt - 1
    error_message varchar
);

-- Every quality check of every run (quality/checks.py): history is never overwritten.
create table if not exists ops.quality_results (
    run_id varchar not null,
    checked_at timestamp not null,
    check_id varchar not null,
    dimension varchar not null,
    severity varchar not null,
    entity varchar not null,
    description varchar not null,
    rows_checked bigint not null,
    rows_failed bigint not null,
    failure_rate_pct double precision not null,
    warn_threshold_pct double precision not null,
    error_threshold_pct double precision not null,
    status varchar not null,
    score_points double precision not null,
    weight integer not null
);

-- Rows in = promoted + quarantined + duplicates removed, per batch and entity
-- (quality/conservation.py).
create table if not exists ops.batch_conservation (
    run_id varchar not null,
    batch_id varchar not null,
    entity varchar not null,
    rows_in bigint not null,
    rows_promoted bigint not null,
    rows_quarantined bigint not null,
    duplicates_removed bigint not null,
    balanced boolean not null,
    recorded_at timestamp not null
);

-- Rejected rows (ingest/quarantine_table.py). `stage` says who rejected the row: `ingest`
-- (the record could not be parsed) or `quality` (a row-level rule failed).
create table if not exists ops.quarantine (
    entity varchar not null,
    batch_id varchar not null,
    source_file varchar,
    source_line bigint,
    record_key varchar,
    raw_content varchar,
    reason varchar not null,
    stage varchar not null,
    run_id varchar,
    quarantined_at timestamp not null,
    released_at timestamp,
    released_run_id varchar
);

-- Every batch folder seen, and when it was processed (ingest/batches.py).
create table if not exists ops.processed_batches (
    batch_id varchar primary key,
    business_date date,
    source_folder varchar not null,
    registered_at timestamp not null,
    processed_at timestamp,
    run_id varchar
);

-- The vocabulary setting as the models join it, written afresh by every run
-- (vocabulary.py): canonical spellings, bands, the window of sane dates.
create table ops.vocabulary (
    vocabulary varchar not null,
    position integer not null,
    canonical varchar not null,
    spelling varchar not null
);

create table ops.bands (
    band_set varchar not null,
    position integer not null,
    name varchar not null,
    lower_bound decimal(18, 4),
    upper_bound decimal(18, 4)
);

create table ops.date_window (earliest_date date not null, days_after_today integer not null);
