-- record_post_changes (0026) planned once per statement instead of once per session.
--
-- PL/pgSQL keeps the plan of a statement without parameters from its first run. The update branch joins the
-- statement's old and new rows (transition tables), and its first run in a session is usually a one-post update:
-- planned for one row on each side, the join became a nested loop, kept for every later statement. A claim of 800
-- posts then rescanned 800 rows 800 times: the benchmark's burst spent 8 of its 10 CPU-seconds of PostgreSQL in
-- this trigger (pg_stat_statements with track = all; docs/scale.md). EXECUTE plans it for the rows it has.
create or replace function record_post_changes() returns trigger language plpgsql security definer set search_path from current as $$
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
