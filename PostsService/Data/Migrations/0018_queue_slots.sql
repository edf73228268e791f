-- Posting schedules and queue slots (issue 16): a channel's weekly times in its own time zone, and which posts were
-- put into those times by "add to queue" (so removing one can close the gap behind it).

create table posting_schedules (
    channel_id      uuid primary key references channels (id) on delete cascade,
    workspace_id    uuid not null,
    -- The IANA zone the times are in.
    time_zone       text not null,
    -- Weekly times as "<ISO weekday 1-7> HH:MM", e.g. '1 09:00' for Mondays at 09:00.
    slots           text[] not null,
    -- Whether removing a post from the queue moves the later queue posts up one slot each.
    close_gaps      boolean not null default false,
    updated_at      timestamptz not null default now()
);

create trigger posting_schedules_updated_at before update on posting_schedules
    for each row execute function set_updated_at();

-- A post put into a slot by the queue. Its time is the post's publish_at; this row only marks it as the queue's.
create table queue_posts (
    post_id         uuid primary key references scheduled_posts (id) on delete cascade,
    channel_id      uuid not null references channels (id) on delete cascade,
    workspace_id    uuid not null
);
create index queue_posts_channel_idx on queue_posts (channel_id);

alter table posting_schedules enable row level security;
alter table queue_posts enable row level security;

create policy posting_schedules_read on posting_schedules for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy posting_schedules_create on posting_schedules for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
-- Every add to the queue locks its channel's schedule row for update (that lock is what gives concurrent adds
-- distinct slots), and PostgreSQL checks a lock against USING: so USING admits everyone who may write posts, and
-- WITH CHECK keeps changing the schedule to owners and admins.
create policy posting_schedules_change on posting_schedules for update
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
create policy posting_schedules_delete on posting_schedules for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));

create policy queue_posts_read on queue_posts for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy queue_posts_create on queue_posts for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]));
create policy queue_posts_delete on queue_posts for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]));

grant select, insert, update, delete on posting_schedules to socialsync_app;
grant select, insert, delete on queue_posts to socialsync_app;
