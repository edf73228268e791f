-- The group commit's channel read (PostInserts.LoadChannelsAsync) pairs each channel with its poster's membership
-- through app_batch_membership (0028), a PL/pgSQL call per post: pg_stat_statements during the benchmark's unary
-- creates counted one call for every post (6,959 calls in 5 s, each a planned query of its own). This reads the
-- memberships of all the group commit's users once per statement, as app_batch_grants does for the policies; the
-- read joins each channel with its own poster's row, so who is paired with what is unchanged: a channel is read
-- for a user only when that user is a member of its workspace, and only users named in app.batch_user_ids appear.
--
-- app_batch_membership stays until no running PostsService calls it (a PostsService of the previous version may
-- run beside this one during a rolling deployment).

create function app_batch_memberships(out member uuid, out workspace uuid, out role text, out requires_approval boolean)
returns setof record language plpgsql stable security definer set search_path from current as $$
declare
    users uuid[] := app_batch_users();
begin
    if cardinality(users) = 0 then
        return;
    end if;
    return query
        select m.user_id, m.workspace_id, m.role, w.requires_approval
        from workspace_members m join workspaces w on w.id = m.workspace_id
        where m.user_id = any(users);
end $$;
