-- A group commit of creates in one channel read and one INSERT, whoever its users are (issue 12). Until now each
-- user of a group commit cost four statements (set the user, read the channels, set the user, insert), and the
-- statements, not the rows, were most of a create's time in PostgreSQL.
--
-- The transaction names the users of its group commit in app.batch_user_ids (and sets no app.user_id). The policies
-- below admit a row only for the user the row itself names: a channel is read for a user only through
-- app_batch_membership(channel's workspace, that user), and a post is written and returned only when its own
-- user_id holds the role in its own workspace. One user of a group commit can neither write into, nor read from, a
-- workspace that only another user of the same group commit belongs to. Every other transaction sets no
-- app.batch_user_ids, so these policies admit nothing there.

create function app_batch_users() returns uuid[] language sql stable as $$
    select coalesce(nullif(current_setting('app.batch_user_ids', true), '')::uuid[], '{}')
$$;

-- A user of this transaction's group commit: their role in the workspace and whether it requires approval; no row
-- when the user is not one of the group commit's, or not a member. Security definer, like app_workspaces, to read
-- memberships that the policies of workspace_members hide from a transaction without app.user_id.
create function app_batch_membership(workspace uuid, member uuid, out role text, out requires_approval boolean)
returns setof record language plpgsql stable security definer set search_path from current as $$
begin
    return query
        select m.role, w.requires_approval
        from workspace_members m join workspaces w on w.id = m.workspace_id
        where m.workspace_id = workspace and m.user_id = member and member = any(app_batch_users());
end $$;

-- "user/workspace" for each membership of the group commit's users with one of the roles: policies read it once per
-- statement, so a row's check is an array lookup of its own user and workspace, not a function call per row.
create function app_batch_grants(roles text[]) returns text[] language plpgsql stable security definer set search_path from current as $$
declare
    users uuid[] := app_batch_users();
begin
    if cardinality(users) = 0 then
        return '{}';
    end if;
    return (select coalesce(array_agg(user_id::text || '/' || workspace_id::text), '{}')
            from workspace_members where user_id = any(users) and role = any(roles));
end $$;

-- The workspaces of any of the group commit's users, once per statement: only a coarse filter for the channel read,
-- whose query pairs each channel with its own user's membership.
create function app_batch_workspaces() returns uuid[] language plpgsql stable security definer set search_path from current as $$
declare
    users uuid[] := app_batch_users();
begin
    if cardinality(users) = 0 then
        return '{}';
    end if;
    return (select coalesce(array_agg(distinct workspace_id), '{}') from workspace_members where user_id = any(users));
end $$;

create policy channels_read_in_group_commit on channels for select
    using (workspace_id = any ((select app_batch_workspaces())::uuid[]));
-- The channel read locks its rows for share (a concurrent delete waits), which PostgreSQL checks against the update
-- policies' USING; WITH CHECK (false) keeps any real change out.
create policy channels_lock_in_group_commit on channels for update
    using (workspace_id = any ((select app_batch_workspaces())::uuid[]))
    with check (false);

create policy scheduled_posts_create_in_group_commit on scheduled_posts for insert
    with check ((user_id::text || '/' || workspace_id::text) = any ((select app_batch_grants('{owner,admin,editor}'))::text[])
        or ((user_id::text || '/' || workspace_id::text) = any ((select app_batch_grants('{contributor}'))::text[])
            and needs_approval and status in ('draft', 'pending_approval')));
-- What INSERT ... RETURNING gives back: the group commit's own new rows, each its own user's.
create policy scheduled_posts_read_in_group_commit on scheduled_posts for select
    using ((user_id::text || '/' || workspace_id::text) = any ((select app_batch_grants('{owner,admin,editor,contributor,viewer}'))::text[]));
