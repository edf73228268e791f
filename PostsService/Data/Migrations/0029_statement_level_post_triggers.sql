-- A post's outbox rows and history events written once per statement instead of once per row (issue 12). A group
-- commit inserts many posts in one statement, and claims and outcomes change hundreds in one UPDATE; each row then ran
-- plpgsql triggers with an INSERT of their own, which took more time than the UPDATE itself (10,000 posts published:
-- about 1.7 s with the row triggers, 0.7 s without them, on a loaded machine). The same rows are written, from the
-- statement's transition tables. (A trigger with transition tables serves one event, so each event has its own.)

create function record_created_posts() returns trigger language plpgsql as $$
begin
    insert into schedule_outbox (post_id) select id from created_posts;
    return null;
end $$;

create function record_schedule_changes() returns trigger language plpgsql as $$
begin
    insert into schedule_outbox (post_id)
    select n.id from changed_after n join changed_before o on o.id = n.id
    where (n.status = 'queued' and (o.status is distinct from 'queued' or n.due_at is distinct from o.due_at))
       or (o.status = 'queued' and n.status <> 'queued' and n.status <> 'publishing');
    return null;
end $$;

create function record_removed_posts() returns trigger language plpgsql as $$
begin
    insert into schedule_outbox (post_id) select id from removed_posts;
    return null;
end $$;

drop trigger scheduled_posts_schedule_change on scheduled_posts;
drop function record_schedule_change();
create trigger scheduled_posts_record_created after insert on scheduled_posts
    referencing new table as created_posts
    for each statement execute function record_created_posts();
create trigger scheduled_posts_schedule_change after update on scheduled_posts
    referencing old table as changed_before new table as changed_after
    for each statement execute function record_schedule_changes();
create trigger scheduled_posts_record_removed after delete on scheduled_posts
    referencing old table as removed_posts
    for each statement execute function record_removed_posts();

-- The history of 0017 (same events, same words): an edit's changed fields, then the status change, for each post.
create function record_post_events() returns trigger language plpgsql as $$
begin
    insert into post_events (post_id, workspace_id, actor, kind, status, fields)
    select n.id, n.workspace_id, app_user_id(), 'edited', n.status, c.fields
    from changed_after n join changed_before o on o.id = n.id
    cross join lateral (select array_remove(array[
        case when n.content_json is distinct from o.content_json then 'content' end,
        case when n.publish_at is distinct from o.publish_at then 'publish_at' end,
        case when n.time_zone is distinct from o.time_zone then 'time_zone' end,
        case when n.rrule is distinct from o.rrule then 'rrule' end,
        case when n.recipients is distinct from o.recipients then 'recipients' end], null) as fields) c
    where cardinality(c.fields) > 0
    order by n.id;

    -- A retry's requeue and a claim are the engine's own steps, not news to the people planning (the runs tell those).
    insert into post_events (post_id, workspace_id, actor, kind, status, comment)
    select n.id, n.workspace_id, app_user_id(),
        case
            when n.status = 'pending_approval' and o.status = 'queued' then 'approval_withdrawn'
            when n.status = 'pending_approval' then 'submitted'
            when n.status = 'queued' and o.status = 'pending_approval' then 'approved'
            when n.status = 'queued' then 'scheduled'
            else n.status
        end,
        n.status,
        case when n.status = 'rejected' then n.review_comment when n.status in ('failed', 'missed', 'expired') then n.error_message end
    from changed_after n join changed_before o on o.id = n.id
    where n.status is distinct from o.status and n.status <> 'publishing' and not (o.status = 'publishing' and n.status = 'queued')
    order by n.id;
    return null;
end $$;

drop trigger scheduled_posts_record_event on scheduled_posts;
drop function record_post_event();
create trigger scheduled_posts_record_events after update on scheduled_posts
    referencing old table as changed_before new table as changed_after
    for each statement execute function record_post_events();
