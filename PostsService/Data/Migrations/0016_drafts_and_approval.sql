-- Drafts and approval (issue 15): a post may be saved as a draft, and a post that needs approval is scheduled only
-- once an editor approved exactly what will be published.

alter table scheduled_posts drop constraint scheduled_posts_status_check;
alter table scheduled_posts add constraint scheduled_posts_status_check check (status in (
    'queued', 'publishing', 'published', 'failed', 'cancelled', 'missed', 'unconfirmed',
    'draft', 'pending_approval', 'rejected', 'expired'));

alter table scheduled_posts
    -- Decided when the post is created or submitted: a contributor's post, or the workspace's or channel's setting.
    add column needs_approval   boolean not null default false,
    add column submitted_by     uuid,
    add column approved_by      uuid,
    -- publish_hash() of the version approved; a queued post that needs approval must match it.
    add column approved_hash    bytea,
    add column review_comment   text;

alter table workspaces add column requires_approval boolean not null default false;

-- What an approval is bound to: everything that decides what goes out, where and when. A series is bound to its
-- anchor (the first occurrence's time), so its later occurrences stay approved.
create function publish_hash(content jsonb, channel uuid, anchor timestamptz, recipients text[], rrule text, zone text)
returns bytea language sql immutable as $$
    select sha256(convert_to(jsonb_build_array(content, channel, extract(epoch from anchor), recipients, rrule, zone)::text, 'UTF8'))
$$;

-- The guarantee, whatever statement changes a post: a post that needs approval is queued only while what it would
-- publish hashes to what was approved; otherwise it goes back to pending_approval, so an unapproved version can
-- never be claimed (claims take queued posts only).
create function hold_unapproved_post() returns trigger language plpgsql as $$
begin
    if new.status = 'queued' and new.approved_hash is distinct from
       publish_hash(new.content_json, new.channel_id, coalesce(new.series_start, new.publish_at), new.recipients, new.rrule, new.time_zone) then
        new.status := 'pending_approval';
        new.approved_by := null;
        new.approved_hash := null;
    end if;
    return new;
end $$;

create trigger scheduled_posts_hold_unapproved before insert or update on scheduled_posts
    for each row when (new.needs_approval) execute function hold_unapproved_post();

-- Contributors write their own posts, which always need approval, and change them only until they are approved.
drop policy scheduled_posts_create on scheduled_posts;
drop policy scheduled_posts_change on scheduled_posts;
drop policy scheduled_posts_delete on scheduled_posts;

create policy scheduled_posts_create on scheduled_posts for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[])
        or (workspace_id = any ((select app_workspaces('{contributor}'))::uuid[])
            and user_id = (select app_user_id()) and needs_approval and status in ('draft', 'pending_approval')));
create policy scheduled_posts_change on scheduled_posts for update
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[])
        or (workspace_id = any ((select app_workspaces('{contributor}'))::uuid[])
            and user_id = (select app_user_id()) and status in ('draft', 'pending_approval', 'rejected', 'expired')))
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[])
        or (workspace_id = any ((select app_workspaces('{contributor}'))::uuid[])
            and user_id = (select app_user_id()) and needs_approval and status in ('draft', 'pending_approval')));
create policy scheduled_posts_delete on scheduled_posts for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[])
        or (workspace_id = any ((select app_workspaces('{contributor}'))::uuid[])
            and user_id = (select app_user_id()) and status in ('draft', 'pending_approval', 'rejected', 'expired')));
