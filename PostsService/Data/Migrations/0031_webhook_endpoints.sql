-- Webhooks out (issue 17, part 5; docs/webhooks.md "Webhooks out"): a workspace's endpoints, the events each is to
-- receive, and every delivery attempt. Owners and admins manage endpoints; every member may read the rows, so that a
-- role too low is told PERMISSION_DENIED (by the service) and another workspace's endpoint NOT_FOUND.
--
-- Why one delivery row per event and endpoint, not a cursor per endpoint: each event has its own retry schedule (up
-- to 3 days), one failing event must not hold back the ones after it, a manual redelivery picks one event, and the
-- delivery log names events. The post changes (0026) are pruned after Watch:Retention (24 hours), shorter than the
-- retry schedule, so the event's body is copied into its delivery row when the change is read (fan-out), and the
-- changes are read once, from one shared position in the change feed (webhook_feed_position).

create table webhook_endpoints (
    id                      uuid primary key default gen_random_uuid(),
    workspace_id            uuid not null references workspaces (id) on delete cascade,
    url                     text not null check (length(url) between 1 and 2048),
    description             text not null default '',
    -- Event types ("post.published") or families ("post.*"); empty means every event.
    event_types             text[] not null default '{}',
    enabled                 boolean not null default true,
    disabled_reason         text,
    disabled_at             timestamptz,
    -- "whsec_<base64>", encrypted like the channels' access tokens (Tokens:EncryptionKey).
    secret_encrypted        bytea not null,
    -- After a rotation, the secret before it, which still signs until previous_secret_until.
    previous_secret_encrypted bytea,
    previous_secret_until   timestamptz,
    -- Failed attempts since the last success, and when the first of them was made: the disabling rule's inputs.
    consecutive_failures    integer not null default 0,
    failing_since           timestamptz,
    created_by              uuid not null,
    version                 integer not null default 1,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create index webhook_endpoints_workspace_idx on webhook_endpoints (workspace_id, created_at, id);

create trigger webhook_endpoints_updated_at before update on webhook_endpoints
    for each row execute function set_updated_at();

create table webhook_deliveries (
    id                      bigserial primary key,
    endpoint_id             uuid not null references webhook_endpoints (id) on delete cascade,
    workspace_id            uuid not null,
    -- The webhook-id header: the same for every attempt and every endpoint of one event.
    event_id                text not null,
    event_type              text not null,
    -- The exact body signed and sent, the same on every attempt.
    payload                 text not null,
    state                   text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    -- Attempts made (or started: a claim counts one before the request goes out, so a crash mid-request is counted).
    attempts                integer not null default 0,
    -- The attempts made before the current retry schedule began (a manual redelivery starts a new one).
    schedule_start          integer not null default 0,
    next_attempt_at         timestamptz not null default now(),
    delivered_at            timestamptz,
    created_at              timestamptz not null default now(),
    unique (endpoint_id, event_id)
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where state = 'pending';

create table webhook_delivery_attempts (
    id                      bigserial primary key,
    delivery_id             bigint not null references webhook_deliveries (id) on delete cascade,
    endpoint_id             uuid not null,
    workspace_id            uuid not null,
    attempt                 integer not null,
    -- The answer's status code, or null when none came (error says why: a timeout, a refused connection).
    http_status             integer,
    error                   text,
    duration_ms             integer not null,
    at                      timestamptz not null default now()
);
create index webhook_delivery_attempts_endpoint_idx on webhook_delivery_attempts (endpoint_id, id desc);

-- Every post change of a transaction below this one has been fanned out to the endpoints (0026 explains the xid
-- ranges). Starts now: changes from before webhooks existed are not sent.
create table webhook_feed_position (
    single                  boolean primary key default true check (single),
    xid                     xid8 not null
);
insert into webhook_feed_position (xid) values (pg_snapshot_xmin(pg_current_snapshot()));

-- Whether an endpoint's filter takes an event type: empty takes all, "post.*" takes every "post." type.
create function webhook_wants(filter text[], event_type text) returns boolean language sql immutable as $$
    select cardinality(filter) = 0 or event_type = any (filter)
        or exists (select 1 from unnest(filter) f where f like '%.*' and starts_with(event_type, left(f, -1)))
$$;

-- channel.needs_reconnect: queued for the workspace's endpoints in the transaction that flags the channel, so it is
-- never lost and never sent for a transaction that rolled back. Statement-level, like 0026's: channels change rarely.
create function queue_channel_webhooks() returns trigger language plpgsql security definer set search_path from current as $$
begin
    insert into webhook_deliveries (endpoint_id, workspace_id, event_id, event_type, payload)
    select e.id, c.workspace_id, c.event_id, 'channel.needs_reconnect',
           jsonb_build_object('type', 'channel.needs_reconnect',
                              'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', jsonb_build_object('channel_id', c.id, 'workspace_id', c.workspace_id, 'platform', c.platform,
                                                         'state', c.state, 'reason', c.state_reason))::text
    from (select n.*, 'evt_' || replace(gen_random_uuid()::text, '-', '') as event_id
          from new_channels n join old_channels o on o.id = n.id
          where n.state = 'needs_reconnect' and o.state is distinct from n.state) c
    join webhook_endpoints e on e.workspace_id = c.workspace_id and e.enabled and webhook_wants(e.event_types, 'channel.needs_reconnect');
    return null;
end $$;

create trigger channels_webhooks after update on channels
    referencing old table as old_channels new table as new_channels for each statement execute function queue_channel_webhooks();

alter table webhook_endpoints enable row level security;
create policy webhook_endpoints_read on webhook_endpoints for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy webhook_endpoints_create on webhook_endpoints for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]) and created_by = (select app_user_id()));
create policy webhook_endpoints_change on webhook_endpoints for update
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
create policy webhook_endpoints_delete on webhook_endpoints for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
grant select, insert, update, delete on webhook_endpoints to socialsync_app;

alter table webhook_deliveries enable row level security;
create policy webhook_deliveries_read on webhook_deliveries for select
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
create policy webhook_deliveries_redeliver on webhook_deliveries for update
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
grant select, update on webhook_deliveries to socialsync_app;

alter table webhook_delivery_attempts enable row level security;
create policy webhook_delivery_attempts_read on webhook_delivery_attempts for select
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
grant select on webhook_delivery_attempts to socialsync_app;
