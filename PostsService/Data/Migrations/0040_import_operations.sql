-- Import operations (issue 16 part 3; docs/planning.md "CSV import and export"): an ImportPosts operation and the
-- rows it has checked, kept in PostgreSQL rather than in the memory of the process that took the file, so every
-- replica reads its progress and another process resumes it when the one writing it dies.
--
-- The process writing an operation holds its lease (lease_owner, lease_until) and renews it with every chunk; one
-- whose lease ran out is claimed by whichever process looks first (PostImporter), and resumed after processed_rows.
-- A chunk's posts and its progress commit in one transaction, so no row is written twice nor skipped.

create table import_operations (
    id                  uuid primary key,
    user_id             uuid not null,
    -- Lowercase hex: the same file sent while its import runs answers that import.
    file_sha256         text not null,
    total_rows          integer not null check (total_rows > 0),
    processed_rows      integer not null default 0,
    created_posts       integer not null default 0,
    existing_posts      integer not null default 0,
    -- Why the import stopped: a gRPC status code and its message (both null while it runs and when it succeeded).
    error_code          integer,
    error_message       text,
    done                boolean not null default false,
    -- The PostImporter instance writing the operation, and until when no other takes it.
    lease_owner         uuid,
    lease_until         timestamptz,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    ended_at            timestamptz,
    check (processed_rows between 0 and total_rows),
    check (done = (ended_at is not null))
);
create unique index import_operations_running_idx on import_operations (user_id, file_sha256) where not done;
create index import_operations_lease_idx on import_operations (lease_until) where not done;
create index import_operations_ended_idx on import_operations (ended_at) where done;

-- One row per checked CSV row: the create request as sent (protobuf) and what checking it decided, enough to make
-- the same NewPost again, so its request_id and request hash are those of the file's first sending. Deleted when the
-- operation ends.
create table import_rows (
    operation_id        uuid not null references import_operations (id) on delete cascade,
    row_index           integer not null,
    user_id             uuid not null,
    request             bytea not null,
    prefix              text not null,
    channel_id          uuid not null,
    publish_at          timestamptz not null,
    time_zone           text,
    rrule               text,
    traceparent         text,
    primary key (operation_id, row_index)
);

-- The user reads their own operations and rows; a chunk, written as the user, records its progress in the same
-- transaction (only the progress columns). Creating, claiming, finishing and pruning are the importer's, as the
-- owner role (COPY, which fills import_rows, does not run under row-level security).
alter table import_operations enable row level security;
create policy import_operations_own on import_operations
    using (user_id = (select app_user_id()))
    with check (user_id = (select app_user_id()));
grant select on import_operations to socialsync_app;
grant update (processed_rows, created_posts, existing_posts, updated_at, lease_until) on import_operations to socialsync_app;

alter table import_rows enable row level security;
create policy import_rows_read on import_rows for select
    using (user_id = (select app_user_id()));
grant select on import_rows to socialsync_app;
