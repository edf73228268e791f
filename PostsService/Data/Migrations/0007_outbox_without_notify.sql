-- NOTIFY takes a cluster-wide lock at commit, which serialized every transaction that changed a schedule (creates
-- fell to a fifth of PostgreSQL's commit rate). The outbox rows stay; PullScheduleChanges is woken in-process by the
-- writes of its own replica and otherwise checks the outbox every few tens of milliseconds while it waits.
create or replace function record_schedule_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into schedule_outbox (post_id) values (old.id);
    elsif tg_op = 'INSERT'
          or (new.status = 'queued' and (old.status is distinct from 'queued' or new.due_at is distinct from old.due_at))
          or (old.status = 'queued' and new.status <> 'queued' and new.status <> 'publishing') then
        insert into schedule_outbox (post_id) values (new.id);
    end if;
    return null;
end $$;
