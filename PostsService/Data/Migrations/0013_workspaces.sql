-- Workspaces (issue 15): channels and posts belong to a workspace, and row-level security lets its members see and
-- change them by their role, instead of by the user id on each row (which now only says who created it).

create table workspaces (
    id                      uuid primary key default gen_random_uuid(),
    name                    text not null check (length(name) between 1 and 100),
    -- A user's personal workspace has that user's id as its own: every call that names no workspace means it, and
    -- it is made on first use without a lookup.
    personal                boolean not null default false,
    created_by              uuid not null,
    version                 integer not null default 1,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create trigger workspaces_updated_at before update on workspaces
    for each row execute function set_updated_at();

create table workspace_members (
    workspace_id            uuid not null references workspaces (id) on delete cascade,
    user_id                 uuid not null,
    role                    text not null check (role in ('owner', 'admin', 'editor', 'contributor', 'viewer')),
    created_at              timestamptz not null default now(),
    primary key (workspace_id, user_id)
);
create index workspace_members_user_idx on workspace_members (user_id) include (workspace_id, role);

-- Single-use invitations: only a hash of the token is kept, so a leaked table does not let anyone join.
create table workspace_invitations (
    id                      uuid primary key default gen_random_uuid(),
    workspace_id            uuid not null references workspaces (id) on delete cascade,
    token_hash              bytea not null unique,
    role                    text not null check (role in ('owner', 'admin', 'editor', 'contributor', 'viewer')),
    invited_by              uuid not null,
    expires_at              timestamptz not null,
    accepted_by             uuid,
    accepted_at             timestamptz,
    created_at              timestamptz not null default now()
);
create index workspace_invitations_workspace_idx on workspace_invitations (workspace_id, created_at);

-- Every user who has rows gets the personal workspace they would have been given on first use.
insert into workspaces (id, name, personal, created_by)
select user_id, 'Personal', true, user_id from (select user_id from channels union select user_id from scheduled_posts) as owners;
insert into workspace_members (workspace_id, user_id, role) select id, id, 'owner' from workspaces;

alter table channels add column workspace_id uuid references workspaces (id);
update channels set workspace_id = user_id;
alter table channels alter column workspace_id set not null;
-- A post's workspace is its channel's (the foreign key below): a post can never sit in one workspace on another's channel.
alter table channels add constraint channels_id_workspace_key unique (id, workspace_id);
create index channels_workspace_live_idx on channels (workspace_id, created_at) where deleted_at is null;

alter table scheduled_posts add column workspace_id uuid;
update scheduled_posts set workspace_id = user_id;
alter table scheduled_posts alter column workspace_id set not null;
alter table scheduled_posts add constraint scheduled_posts_channel_workspace_fkey
    foreign key (channel_id, workspace_id) references channels (id, workspace_id);
create index scheduled_posts_workspace_publish_idx on scheduled_posts (workspace_id, publish_at desc, id);

alter table post_runs add column workspace_id uuid;
update post_runs r set workspace_id = p.workspace_id from scheduled_posts p where p.id = r.scheduled_post_id;
alter table post_runs alter column workspace_id set not null;

-- The caller of this transaction (set by the API with set_config('app.user_id', ..., true)).
create function app_user_id() returns uuid language sql stable as $$
    select nullif(current_setting('app.user_id', true), '')::uuid
$$;

-- The workspaces where the caller holds one of the roles. Security definer, so that policies on workspace_members
-- itself can use it without recursing; policies call it as "(select ...)", evaluated once per statement.
create function app_workspaces(roles text[]) returns uuid[] language sql stable security definer set search_path from current as $$
    select coalesce(array_agg(workspace_id), '{}') from workspace_members where user_id = app_user_id() and role = any(roles)
$$;

-- The caller's role in a workspace, or null when not a member.
create function app_role(workspace uuid) returns text language sql stable security definer set search_path from current as $$
    select role from workspace_members where workspace_id = workspace and user_id = app_user_id()
$$;

-- Makes the caller's personal workspace (and their membership as its owner) unless it exists.
create function ensure_personal_workspace() returns void language sql volatile security definer set search_path from current as $$
    insert into workspaces (id, name, personal, created_by) values (app_user_id(), 'Personal', true, app_user_id())
        on conflict (id) do nothing;
    insert into workspace_members (workspace_id, user_id, role) values (app_user_id(), app_user_id(), 'owner')
        on conflict (workspace_id, user_id) do nothing;
$$;

-- Makes a shared workspace with the caller as its owner.
create function create_workspace(workspace_name text) returns uuid language plpgsql volatile security definer set search_path from current as $$
declare
    created uuid;
begin
    insert into workspaces (name, created_by) values (workspace_name, app_user_id()) returning id into created;
    insert into workspace_members (workspace_id, user_id, role) values (created, app_user_id(), 'owner');
    return created;
end $$;

-- Accepts an invitation by its token's hash for the caller: the invitee is not a member yet, so cannot see it under
-- the policies. The outcome is a word: 'joined', 'not_found' (no such token, or used, or expired), 'already_member'.
create function accept_invitation(hash bytea, accepted timestamptz, out outcome text, out workspace uuid, out granted text)
language plpgsql volatile security definer set search_path from current as $$
begin
    select i.workspace_id, i.role into workspace, granted from workspace_invitations i
    where i.token_hash = hash and i.accepted_at is null and i.expires_at > accepted
    for update;
    if workspace is null then
        outcome := 'not_found';
        return;
    end if;
    if exists (select from workspace_members m where m.workspace_id = workspace and m.user_id = app_user_id()) then
        outcome := 'already_member';
        return;
    end if;
    update workspace_invitations set accepted_by = app_user_id(), accepted_at = accepted where token_hash = hash;
    insert into workspace_members (workspace_id, user_id, role) values (workspace, app_user_id(), granted);
    outcome := 'joined';
end $$;

-- A workspace always keeps an owner: a change that leaves one without fails, whichever statement made it (the API
-- answers it with FAILED_PRECONDITION).
create function check_workspace_has_owner() returns trigger language plpgsql security definer set search_path from current as $$
begin
    if old.role = 'owner' and exists (select from workspaces w where w.id = old.workspace_id)
       and not exists (select from workspace_members m where m.workspace_id = old.workspace_id and m.role = 'owner') then
        raise exception 'workspace % would have no owner', old.workspace_id using errcode = 'check_violation', constraint = 'workspace_keeps_an_owner';
    end if;
    return null;
end $$;
create trigger workspace_members_keep_owner after update or delete on workspace_members
    for each row execute function check_workspace_has_owner();

-- Row-level security by membership and role. The application checks the role first and answers PERMISSION_DENIED
-- naming the role needed; these policies hold even when a statement forgets its own filters.
drop policy channels_owner on channels;
drop policy scheduled_posts_owner on scheduled_posts;
drop policy post_runs_owner on post_runs;

alter table workspaces enable row level security;
alter table workspace_members enable row level security;
alter table workspace_invitations enable row level security;

create policy workspaces_read on workspaces for select
    using (id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy workspaces_change on workspaces for update
    using (id = any ((select app_workspaces('{owner,admin}'))::uuid[]))
    with check (id = any ((select app_workspaces('{owner,admin}'))::uuid[]));

create policy workspace_members_read on workspace_members for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy workspace_members_change on workspace_members for update
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
-- Admins remove members; anyone may leave.
create policy workspace_members_remove on workspace_members for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]) or user_id = (select app_user_id()));

create policy workspace_invitations_read on workspace_invitations for select
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
create policy workspace_invitations_create on workspace_invitations for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]) and invited_by = (select app_user_id()));
create policy workspace_invitations_revoke on workspace_invitations for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));

create policy channels_read on channels for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy channels_create on channels for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]) and user_id = (select app_user_id()));
-- Whoever posts on a channel locks it for share while their post is written (so a concurrent delete waits), and
-- PostgreSQL checks a lock against the update policy's USING: so it admits every member (a viewer's create is then
-- refused by its role, not as a missing channel), and WITH CHECK keeps the change itself to owners and admins.
create policy channels_change on channels for update
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));
create policy channels_delete on channels for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[]));

create policy scheduled_posts_read on scheduled_posts for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
-- No check of user_id on posts: a series' next occurrence keeps the author of the first, whoever's change made it.
create policy scheduled_posts_create on scheduled_posts for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]));
create policy scheduled_posts_change on scheduled_posts for update
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]));
create policy scheduled_posts_delete on scheduled_posts for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]));

create policy post_runs_read on post_runs for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy post_runs_delete on post_runs for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor}'))::uuid[]));

grant select, update on workspaces to socialsync_app;
grant select, update, delete on workspace_members to socialsync_app;
grant select, insert, delete on workspace_invitations to socialsync_app;
