-- SocialSync schema v1: channels, scheduled posts, their runs, and the schedule outbox.

create table channels (
    id                      uuid primary key default gen_random_uuid(),
    user_id                 uuid not null,
    platform                text not null check (platform in ('whatsapp', 'instagram')),
    account_id              text not null check (length(account_id) between 1 and 128),
    display_name            text not null default '',
    access_token_encrypted  bytea not null,
    settings                jsonb not null default '{}',
    state                   text not null default 'active' check (state in ('active', 'paused', 'needs_reconnect')),
    state_reason            text,
    version                 integer not null default 1,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create index channels_user_idx on channels (user_id, created_at);

create table scheduled_posts (
    id                      uuid primary key default gen_random_uuid(),
    user_id                 uuid not null,
    channel_id              uuid not null references channels (id),
    platform                text not null check (platform in ('whatsapp', 'instagram')),
    content_json            jsonb not null,
    -- When the user wants the post out. Never moved by retries, so lateness is always measured against it.
    publish_at              timestamptz not null,
    -- When the next dispatch is due: publish_at, or a retry / deferral time. The scheduler's index score.
    due_at                  timestamptz not null,
    time_zone               text,
    rrule                   text,
    status                  text not null default 'queued'
                            check (status in ('queued', 'publishing', 'published', 'failed', 'cancelled', 'missed', 'unconfirmed')),
    platform_post_id        text,
    permalink               text,
    error_message           text,
    retry_count             integer not null default 0,
    -- Fencing number: bumped by every claim; every later state change must name it.
    attempt                 integer not null default 0,
    lease_expires_at        timestamptz,
    -- The current attempt has started calling the platform (so its outcome may be unknown).
    call_started            boolean not null default false,
    -- An earlier attempt may have reached the platform: reconcile before sending again.
    needs_reconciliation    boolean not null default false,
    platform_state          jsonb,
    request_id              text,
    traceparent             text,
    published_at            timestamptz,
    version                 integer not null default 1,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create unique index scheduled_posts_request_id_idx on scheduled_posts (user_id, request_id) where request_id is not null;
create index scheduled_posts_due_idx on scheduled_posts (status, due_at);
create index scheduled_posts_user_idx on scheduled_posts (user_id, created_at desc, id);
create index scheduled_posts_channel_idx on scheduled_posts (channel_id);
create index scheduled_posts_platform_idx on scheduled_posts (platform);
create index scheduled_posts_lease_idx on scheduled_posts (lease_expires_at) where status = 'publishing';

create table post_runs (
    id                      uuid primary key default gen_random_uuid(),
    scheduled_post_id       uuid not null references scheduled_posts (id) on delete cascade,
    user_id                 uuid not null,
    attempt                 integer not null,
    started_at              timestamptz not null,
    finished_at             timestamptz,
    status                  text not null default 'running'
                            check (status in ('running', 'success', 'failed', 'deferred', 'unconfirmed')),
    error                   text,
    error_code              integer,
    error_class             text,
    created_at              timestamptz not null default now()
);
create index post_runs_post_idx on post_runs (scheduled_post_id, started_at desc);

-- Every change of a post's schedule, written in the same transaction as the change, relayed to the scheduler's
-- index until acknowledged.
create table schedule_outbox (
    id                      bigserial primary key,
    post_id                 uuid not null,
    created_at              timestamptz not null default now()
);

create function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    new.version := old.version + 1;
    return new;
end $$;

create trigger channels_updated_at before update on channels
    for each row execute function set_updated_at();
create trigger scheduled_posts_updated_at before update on scheduled_posts
    for each row execute function set_updated_at();

create function record_schedule_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into schedule_outbox (post_id) values (old.id);
    elsif tg_op = 'INSERT' or new.status is distinct from old.status or new.due_at is distinct from old.due_at then
        insert into schedule_outbox (post_id) values (new.id);
    else
        return null;
    end if;
    perform pg_notify('schedule_changes', '');
    return null;
end $$;

create trigger scheduled_posts_schedule_change after insert or update or delete on scheduled_posts
    for each row execute function record_schedule_change();

-- Row-level security: the API's role sees only the rows of the user named in app.user_id for the transaction.
alter table channels enable row level security;
alter table scheduled_posts enable row level security;
alter table post_runs enable row level security;

create policy channels_owner on channels
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
create policy scheduled_posts_owner on scheduled_posts
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
create policy post_runs_owner on post_runs
    using (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    with check (user_id = nullif(current_setting('app.user_id', true), '')::uuid);

do $$
begin
    if not exists (select from pg_roles where rolname = 'socialsync_app') then
        create role socialsync_app login nosuperuser nobypassrls;
    end if;
end $$;
grant select, insert, update, delete on channels, scheduled_posts, post_runs to socialsync_app;
grant insert on schedule_outbox to socialsync_app;
grant usage on sequence schedule_outbox_id_seq to socialsync_app;
