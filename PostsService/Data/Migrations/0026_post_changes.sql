-- The changes WatchPosts streams (issue 17, part 5): every post created, edited, changed in status or deleted, with
-- the transaction that made it, kept for a retained window (Watch:Retention) and readable by the workspace's members.
--
-- Why the transaction id: a bigserial is drawn when a row is written, not when its transaction commits, so a reader
-- that resumes from "id > the last id seen" skips a change whose transaction drew a smaller id and committed after the
-- read. Each change records pg_current_xact_id() instead, and a reader delivers only the changes of transactions older
-- than the xmin of its statement's snapshot (pg_snapshot_xmin(pg_current_snapshot())): every such transaction has
-- ended, so all its changes are visible to that statement and no later commit can add one below that xmin. A resume
-- token names the xmin it read up to; the next read takes [token, new xmin). Within such a range, rows go out in id
-- order: two changes of one post are serialized by the post's row lock, and the later one draws its id after the
-- earlier one committed, so per post id order is commit order.
--
-- Why statement-level triggers with transition tables: a create is measured against a raw INSERT (issue 12), and a
-- row-level trigger would add a statement per post; these add one INSERT ... SELECT per statement, whatever its rows.
-- No NOTIFY: it serializes every committing transaction that sends one (0007_outbox_without_notify.sql); PostsService
-- wakes its watchers itself (PostChangeFeed).

create table post_changes (
    id                      bigserial primary key,
    xid                     xid8 not null default pg_current_xact_id(),
    workspace_id            uuid not null,
    post_id                 uuid not null,
    kind                    text not null check (kind in ('created', 'edited', 'status_changed', 'deleted')),
    status                  text not null,
    at                      timestamptz not null default now()
);
create index post_changes_workspace_xid_idx on post_changes (workspace_id, xid, id);
create index post_changes_xid_idx on post_changes (xid);

-- Every change below this transaction id may have been pruned: a token older than it gets FAILED_PRECONDITION.
create table post_change_horizon (
    single                  boolean primary key default true check (single),
    xid                     xid8 not null
);
insert into post_change_horizon (xid) values ('0');

-- Security definer: the changes are SocialSync's record, written whoever's statement (a user's, under row-level
-- security, or the engine's) changed the posts; members only read them.
create function record_post_changes() returns trigger language plpgsql security definer set search_path from current as $$
begin
    if tg_op = 'INSERT' then
        insert into post_changes (workspace_id, post_id, kind, status)
        select n.workspace_id, n.id, 'created', n.status from new_posts n;
    elsif tg_op = 'DELETE' then
        insert into post_changes (workspace_id, post_id, kind, status)
        select o.workspace_id, o.id, 'deleted', o.status from old_posts o;
    else
        -- What a person planning sees: the status, and what 0017's history calls an edit (the engine's leases,
        -- attempts and due times are not news).
        insert into post_changes (workspace_id, post_id, kind, status)
        select n.workspace_id, n.id, case when n.status is distinct from o.status then 'status_changed' else 'edited' end, n.status
        from new_posts n join old_posts o on o.id = n.id
        where n.status is distinct from o.status or n.content_json is distinct from o.content_json
              or n.publish_at is distinct from o.publish_at or n.time_zone is distinct from o.time_zone
              or n.rrule is distinct from o.rrule or n.recipients is distinct from o.recipients
              or n.channel_id is distinct from o.channel_id;
    end if;
    return null;
end $$;

create trigger scheduled_posts_changes_created after insert on scheduled_posts
    referencing new table as new_posts for each statement execute function record_post_changes();
create trigger scheduled_posts_changes_updated after update on scheduled_posts
    referencing old table as old_posts new table as new_posts for each statement execute function record_post_changes();
create trigger scheduled_posts_changes_deleted after delete on scheduled_posts
    referencing old table as old_posts for each statement execute function record_post_changes();

alter table post_changes enable row level security;
create policy post_changes_read on post_changes for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
grant select on post_changes to socialsync_app;
grant select on post_change_horizon to socialsync_app;
