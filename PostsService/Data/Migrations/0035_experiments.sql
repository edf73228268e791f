-- A/B experiments (issue 17 part 4, docs/experiments.md): 2-4 ordinary posts ("variants" A-D) created together and
-- compared by the same metrics as engagement. The variant posts are plain scheduled_posts (the publish path does not
-- know about experiments); these tables only link them, and keep what the finisher decided.

create table experiments (
    id                  uuid primary key default gen_random_uuid(),
    workspace_id        uuid not null references workspaces (id) on delete cascade,
    channel_id          uuid not null references channels (id) on delete cascade,
    platform            text not null check (platform in ('whatsapp', 'instagram')),
    name                text not null default '' check (length(name) <= 200),
    created_by          uuid not null,
    -- The seed of the recipients' shuffle (ExperimentSplit): the same seed and recipients give the same split.
    seed                bigint not null,
    -- WhatsApp: the share of the recipients the variants go to; the rest (holdout) get the winner after the window.
    test_share          double precision not null default 1 check (test_share >= 0.2 and test_share <= 1),
    holdout             text[] not null default '{}',
    winner_after        interval not null check (winner_after > interval '0'),
    -- The last variant's publish time + winner_after: from then on the finisher may decide.
    finishes_at         timestamptz not null,
    finished_at         timestamptz,
    winner_label        text,
    -- The winner sent to the holdout, a post of its own (null without a holdout).
    winner_post_id      uuid references scheduled_posts (id) on delete set null,
    sample_too_small    boolean,
    -- Each variant's figures when the finisher decided (the live ones may grow afterwards: late reads, new snapshots).
    result              jsonb,
    created_at          timestamptz not null default now()
);
create index experiments_due_idx on experiments (finishes_at) where finished_at is null;
create index experiments_workspace_idx on experiments (workspace_id, created_at desc, id);

create table experiment_variants (
    experiment_id       uuid not null references experiments (id) on delete cascade,
    label               text not null check (label in ('A', 'B', 'C', 'D')),
    post_id             uuid not null references scheduled_posts (id) on delete cascade,
    workspace_id        uuid not null,
    primary key (experiment_id, label)
);
create index experiment_variants_post_idx on experiment_variants (post_id);

-- Like every workspace table: members read, whoever may write posts creates (as themselves); only the finisher (the
-- owner role) changes an experiment afterwards.
alter table experiments enable row level security;
create policy experiments_read on experiments for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy experiments_create on experiments for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]) and created_by = (select app_user_id()));
grant select, insert on experiments to socialsync_app;

alter table experiment_variants enable row level security;
create policy experiment_variants_read on experiment_variants for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy experiment_variants_create on experiment_variants for insert
    with check (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor}'))::uuid[]));
grant select, insert on experiment_variants to socialsync_app;
