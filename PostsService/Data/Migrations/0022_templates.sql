-- Templates (issue 16): a workspace's reusable contents with named variables, typed defaults and a variant per
-- platform. Members who may write posts write them (contributors and up); every member reads them.

create table templates (
    id              uuid primary key default gen_random_uuid(),
    workspace_id    uuid not null references workspaces (id) on delete cascade,
    name            text not null check (length(name) between 1 and 100),
    description     text not null default '',
    -- The variables, content and variants, as the protobuf JSON of a Template holding only those fields: they are
    -- only ever read and written whole, and checked by the service before they are stored.
    definition      jsonb not null,
    created_by      uuid not null,
    version         integer not null default 1,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index templates_workspace_name_idx on templates (workspace_id, name, id);

create trigger templates_updated_at before update on templates
    for each row execute function set_updated_at();

alter table templates enable row level security;

create policy templates_read on templates for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy templates_create on templates for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[])
        and created_by = (select app_user_id()));
create policy templates_change on templates for update
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]))
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]));
create policy templates_delete on templates for delete
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]));

grant select, insert, update, delete on templates to socialsync_app;
