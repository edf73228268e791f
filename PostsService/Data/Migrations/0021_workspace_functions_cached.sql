-- The workspace checks of 0013 in plpgsql (issue 12's benchmark): as SQL functions with security definer they were
-- never inlined, so PostgreSQL planned their query again in every statement that called them (several times per
-- user in each create batch: the channel read, its share lock, the insert's check). plpgsql keeps its plans for the
-- session, so a pooled connection plans each once. Same queries, same results.
create or replace function app_workspaces(roles text[]) returns uuid[] language plpgsql stable security definer set search_path from current as $$
begin
    return (select coalesce(array_agg(workspace_id), '{}') from workspace_members where user_id = app_user_id() and role = any(roles));
end $$;

create or replace function app_role(workspace uuid) returns text language plpgsql stable security definer set search_path from current as $$
begin
    return (select role from workspace_members where workspace_id = workspace and user_id = app_user_id());
end $$;
