-- Scheduler (issue 4): dispatch lateness, and an outbox limited to the changes the index needs.

-- How late each dispatch was, so a post published late after an outage says by how much.
-- Claim time minus due_at, in milliseconds, of the latest claim (scheduled_posts) and of each attempt (post_runs).
alter table scheduled_posts add column dispatch_late_ms bigint;
alter table post_runs add column dispatch_late_ms bigint;

-- The outbox carries only the changes the index needs: a post becoming queued or moving while queued (upsert), and
-- a queued post leaving for any state but 'publishing' (remove: cancelled, missed, deleted). A claim
-- (queued -> publishing) is left out: the claimer removes the ids it claims itself, and an id the safety net claimed
-- is settled the moment the index offers it. Outcomes of a claim (publishing -> published / failed / ...) concern
-- posts no longer indexed. This halves the outbox traffic of a burst.
create or replace function record_schedule_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into schedule_outbox (post_id) values (old.id);
    elsif tg_op = 'INSERT'
          or (new.status = 'queued' and (old.status is distinct from 'queued' or new.due_at is distinct from old.due_at))
          or (old.status = 'queued' and new.status <> 'queued' and new.status <> 'publishing') then
        insert into schedule_outbox (post_id) values (new.id);
    else
        return null;
    end if;
    perform pg_notify('schedule_changes', '');
    return null;
end $$;
