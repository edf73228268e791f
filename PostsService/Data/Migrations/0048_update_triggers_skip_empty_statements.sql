-- The update triggers of 0026/0041 and 0042 return at once when the statement updated no post.
--
-- A statement-level trigger fires once per UPDATE statement, whatever its rows. Some statements update no post most
-- of the time: opening runs renews only the leases running short (RunStore), the lease recovery and the expiry find
-- nothing to do most seconds. For each, every one of the three triggers parsed and planned its EXECUTE (a join of
-- the empty old and new rows; post_events' is the largest): 200 opens of runs in the benchmark's burst, three plans
-- each. A look at the new rows is planned once per session; the EXECUTEs now run only when there are rows.
--
-- Each body is 0041's or 0042's with that check added; what each records is unchanged.

create or replace function record_post_changes() returns trigger language plpgsql security definer set search_path from current as $$
begin
    if tg_op = 'INSERT' then
        insert into post_changes (workspace_id, post_id, kind, status)
        select n.workspace_id, n.id, 'created', n.status from new_posts n;
    elsif tg_op = 'DELETE' then
        insert into post_changes (workspace_id, post_id, kind, status)
        select o.workspace_id, o.id, 'deleted', o.status from old_posts o;
    else
        if not exists (select from new_posts) then
            return null;
        end if;
        -- What a person planning sees: the status, and what 0017's history calls an edit (the engine's leases,
        -- attempts and due times are not news).
        execute $sql$
            insert into post_changes (workspace_id, post_id, kind, status)
            select n.workspace_id, n.id, case when n.status is distinct from o.status then 'status_changed' else 'edited' end, n.status
            from new_posts n join old_posts o on o.id = n.id
            where n.status is distinct from o.status or n.content_json is distinct from o.content_json
                  or n.publish_at is distinct from o.publish_at or n.time_zone is distinct from o.time_zone
                  or n.rrule is distinct from o.rrule or n.recipients is distinct from o.recipients
                  or n.channel_id is distinct from o.channel_id
            $sql$;
    end if;
    return null;
end $$;

create or replace function record_schedule_changes() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into schedule_outbox (post_id) select n.id from new_posts n;
    elsif tg_op = 'DELETE' then
        insert into schedule_outbox (post_id) select o.id from old_posts o;
    else
        if not exists (select from new_posts) then
            return null;
        end if;
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

create or replace function record_post_events() returns trigger language plpgsql as $$
begin
    if not exists (select from new_posts) then
        return null;
    end if;
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
