-- A post's history (issue 15): every change of a post, who made it and when, readable by the workspace's members.
-- The post row itself is the record of its creation (created_at, user_id), so creating a post writes nothing more.

create table post_events (
    id                      bigserial primary key,
    post_id                 uuid not null references scheduled_posts (id) on delete cascade,
    workspace_id            uuid not null,
    at                      timestamptz not null default now(),
    -- The user whose request made the change (app.user_id); null for SocialSync's own (a claim's outcome, an expiry).
    actor                   uuid,
    kind                    text not null,
    status                  text not null,
    -- For 'edited': the fields that changed.
    fields                  text[],
    comment                 text
);
create index post_events_post_idx on post_events (post_id, id);

-- What a change of a post was, in the words of ListPostEvents. A retry's requeue and a claim are the engine's own
-- steps, not news to the people planning (the post's runs tell those).
create function record_post_event() returns trigger language plpgsql as $$
declare
    changed text[] := array_remove(array[
        case when new.content_json is distinct from old.content_json then 'content' end,
        case when new.publish_at is distinct from old.publish_at then 'publish_at' end,
        case when new.time_zone is distinct from old.time_zone then 'time_zone' end,
        case when new.rrule is distinct from old.rrule then 'rrule' end,
        case when new.recipients is distinct from old.recipients then 'recipients' end], null);
    event text;
begin
    if cardinality(changed) > 0 then
        insert into post_events (post_id, workspace_id, actor, kind, status, fields)
        values (new.id, new.workspace_id, app_user_id(), 'edited', new.status, changed);
    end if;
    if new.status is distinct from old.status then
        event := case
            when new.status = 'pending_approval' and old.status = 'queued' then 'approval_withdrawn'
            when new.status = 'pending_approval' then 'submitted'
            when new.status = 'queued' and old.status = 'pending_approval' then 'approved'
            when new.status = 'queued' then 'scheduled'
            else new.status
        end;
        insert into post_events (post_id, workspace_id, actor, kind, status, comment)
        values (new.id, new.workspace_id, app_user_id(), event, new.status,
                case when new.status = 'rejected' then new.review_comment when new.status in ('failed', 'missed', 'expired') then new.error_message end);
    end if;
    return null;
end $$;

create trigger scheduled_posts_record_event after update on scheduled_posts
    for each row
    when (old.status is distinct from new.status and new.status <> 'publishing' and not (old.status = 'publishing' and new.status = 'queued')
          or old.content_json is distinct from new.content_json or old.publish_at is distinct from new.publish_at
          or old.time_zone is distinct from new.time_zone or old.rrule is distinct from new.rrule or old.recipients is distinct from new.recipients)
    execute function record_post_event();

alter table post_events enable row level security;
create policy post_events_read on post_events for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
-- The trigger runs as the user whose statement changed the post: it may add that post's events, nothing else.
create policy post_events_record on post_events for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]));
grant select, insert on post_events to socialsync_app;
grant usage on sequence post_events_id_seq to socialsync_app;
