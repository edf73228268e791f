-- The group commit's security-definer functions (0028, 0049) read their users into a PL/pgSQL variable and queried
-- workspace_members with "user_id = any(users)": a variable is a parameter of the query, so PostgreSQL's plan cache
-- weighs a custom plan for each call against its generic one, and for one user (a group commit of one create, the
-- usual case when few people post at once) the custom plan always looked cheaper. Every call planned its query
-- again: pg_stat_statements (track=all, track_planning=on) over 400 one-post group commits counted 400 plans of
-- each of the four queries, 0.19 ms of planning per group commit, the insert 0.34 ms and the channels' read 0.24 ms.
--
-- Reading the users through app_batch_users() inside the query takes them out of its parameters (the SQL function is
-- inlined, and current_setting is evaluated when the query runs, not when it is planned), so the plan no longer
-- depends on how many users a group commit has and is kept for the session: the same run counted no plans at all
-- after the first ones (app_batch_grants' roles stay a parameter; they are the same for each policy that calls it).
-- Same queries, same rows: a group commit of one post now 0.20–0.25 ms for the insert and 0.10–0.13 ms for the read;
-- groups of eight, whose generic plans were already kept, are unchanged (docs/scale.md).

create or replace function app_batch_grants(roles text[]) returns text[] language plpgsql stable security definer set search_path from current as $$
begin
    if cardinality(app_batch_users()) = 0 then
        return '{}';
    end if;
    return (select coalesce(array_agg(user_id::text || '/' || workspace_id::text), '{}')
            from workspace_members where user_id = any(app_batch_users()) and role = any(roles));
end $$;

create or replace function app_batch_workspaces() returns uuid[] language plpgsql stable security definer set search_path from current as $$
begin
    if cardinality(app_batch_users()) = 0 then
        return '{}';
    end if;
    return (select coalesce(array_agg(distinct workspace_id), '{}') from workspace_members where user_id = any(app_batch_users()));
end $$;

create or replace function app_batch_memberships(out member uuid, out workspace uuid, out role text, out requires_approval boolean)
returns setof record language plpgsql stable security definer set search_path from current as $$
begin
    if cardinality(app_batch_users()) = 0 then
        return;
    end if;
    return query
        select m.user_id, m.workspace_id, m.role, w.requires_approval
        from workspace_members m join workspaces w on w.id = m.workspace_id
        where m.user_id = any(app_batch_users());
end $$;
