-- The schedule outbox (0007) and the post history (0017) written once per statement instead of once per row.
--
-- Both were row-level triggers: every post of a group commit's INSERT, of a claim and of a batch of outcomes called a
-- PL/pgSQL function, and each one that had something to record ran an INSERT of its own. The benchmark's burst
-- measured the history's alone at 0.14 ms a post (docs/scale.md). As in 0026, each now runs one INSERT ... SELECT over
-- the statement's transition tables, whatever its rows; the update branches join old and new rows through EXECUTE,
-- planned for the rows they have (0041 says why a kept plan is not).
--
-- What each records is unchanged: the same conditions, the same rows, and within a post its edit before its status
-- event (ids are drawn in the order of the ORDER BY).

drop trigger scheduled_posts_schedule_change on scheduled_posts;
drop trigger scheduled_posts_record_event on scheduled_posts;
drop function record_schedule_change();
drop function record_post_event();

-- The scheduler's outbox: a post created or deleted, (re)queued or moved while queued, or leaving the queue other
-- than by a claim (a claim's outcome reports itself to the scheduler).
create function record_schedule_changes() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into schedule_outbox (post_id) select n.id from new_posts n;
    elsif tg_op = 'DELETE' then
        insert into schedule_outbox (post_id) select o.id from old_posts o;
    else
        execute $sql$
            insert into schedule_outbox (post_id)
            select n.id
            from new_posts n join old_posts o on o.id = n.id
            where (n.status = 'queued' and (o.status is distinct from 'queued' or n.due_at is distinct from o.due_at))
               or (o.status = 'queued' and n.status <> 'queued' and n.status <> 'publishing')
            $sql$;
    end if;
    return null;
end $$;

create trigger scheduled_posts_schedule_created after insert on scheduled_posts
    referencing new table as new_posts for each statement execute function record_schedule_changes();
create trigger scheduled_posts_schedule_updated after update on scheduled_posts
    referencing old table as old_posts new table as new_posts for each statement execute function record_schedule_changes();
create trigger scheduled_posts_schedule_deleted after delete on scheduled_posts
    referencing old table as old_posts for each statement execute function record_schedule_changes();

-- A post's history: its edits (the fields that changed) and its status changes in the words of ListPostEvents. A
-- retry's requeue and a claim are the engine's own steps, not news to the people planning (the post's runs tell
-- those). Runs as the user whose statement changed the posts, under post_events' policies, as the row trigger did.
create function record_post_events() returns trigger language plpgsql as $$
begin
    execute $sql$
        insert into post_events (post_id, workspace_id, actor, kind, status, fields, comment)
        select c.id, c.workspace_id, app_user_id(), e.kind, c.status, e.fields, e.comment
        from (
            select n.id, n.workspace_id, n.status, o.status as old_status, n.review_comment, n.error_message,
                   array_remove(array[
                       case when n.content_json is distinct from o.content_json then 'content' end,
                       case when n.publish_at is distinct from o.publish_at then 'publish_at' end,
                       case when n.time_zone is distinct from o.time_zone then 'time_zone' end,
                       case when n.rrule is distinct from o.rrule then 'rrule' end,
                       case when n.recipients is distinct from o.recipients then 'recipients' end], null) as changed
            from new_posts n join old_posts o on o.id = n.id
            where o.status is distinct from n.status and n.status <> 'publishing' and not (o.status = 'publishing' and n.status = 'queued')
                  or o.content_json is distinct from n.content_json or o.publish_at is distinct from n.publish_at
                  or o.time_zone is distinct from n.time_zone or o.rrule is distinct from n.rrule
                  or o.recipients is distinct from n.recipients
        ) c
        cross join lateral (
            select 1, 'edited', c.changed, null::text
            where cardinality(c.changed) > 0
            union all
            select 2,
                   case
                       when c.status = 'pending_approval' and c.old_status = 'queued' then 'approval_withdrawn'
                       when c.status = 'pending_approval' then 'submitted'
                       when c.status = 'queued' and c.old_status = 'pending_approval' then 'approved'
                       when c.status = 'queued' then 'scheduled'
                       else c.status
                   end,
                   null::text[],
                   case when c.status = 'rejected' then c.review_comment
                        when c.status in ('failed', 'missed', 'expired') then c.error_message end
            where c.status is distinct from c.old_status
        ) e (ord, kind, fields, comment)
        order by c.id, e.ord
        $sql$;
    return null;
end $$;

create trigger scheduled_posts_record_events after update on scheduled_posts
    referencing old table as old_posts new table as new_posts for each statement execute function record_post_events();
