-- Delivery statuses wake WatchPosts (issue 19): when WhatsApp reports a new or further status of a post's message
-- (delivery_statuses, 0023), the post's workspace gets a 'delivery_updated' change, so a post detail open in the web
-- app shows its delivery as it happens. A repeated status writes the same row again and is no change.
--
-- The check is replaced NOT VALID and then validated: validating takes no lock that stops writers of post_changes.
alter table post_changes drop constraint post_changes_kind_check;
alter table post_changes add constraint post_changes_kind_check
    check (kind in ('created', 'edited', 'status_changed', 'deleted', 'delivery_updated')) not valid;
alter table post_changes validate constraint post_changes_kind_check;

-- Security definer, as record_post_changes (0026): the changes are SocialSync's record; the statuses are written by
-- PublisherService's calls, whoever the post belongs to.
create function record_delivery_changes() returns trigger language plpgsql security definer set search_path from current as $$
begin
    if tg_op = 'INSERT' then
        insert into post_changes (workspace_id, post_id, kind, status)
        select p.workspace_id, p.id, 'delivery_updated', p.status
        from scheduled_posts p where p.id in (select n.post_id from new_statuses n);
    else
        insert into post_changes (workspace_id, post_id, kind, status)
        select p.workspace_id, p.id, 'delivery_updated', p.status
        from scheduled_posts p
        where p.id in (select n.post_id from new_statuses n
                       join old_statuses o on o.post_id = n.post_id and o.recipient_id = n.recipient_id and o.wamid = n.wamid
                       where row(n.*) is distinct from row(o.*));
    end if;
    return null;
end $$;

create trigger delivery_statuses_changes_inserted after insert on delivery_statuses
    referencing new table as new_statuses for each statement execute function record_delivery_changes();
create trigger delivery_statuses_changes_updated after update on delivery_statuses
    referencing old table as old_statuses new table as new_statuses for each statement execute function record_delivery_changes();
