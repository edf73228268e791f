-- Engagement after publishing (issue 17, docs/insights.md): Instagram insights that PublisherService fetches on a
-- schedule after each post is published, and each Instagram account's followers online per hour. Kept as long as the
-- post (or channel): Meta keeps insights 90 days, so these rows are the only record after that; the suggestions read
-- the posts of the last Insights:HistoryWindow (90 days).

-- One published Instagram post's insight fetches: how many snapshots are taken, and when Meta says the media went out.
create table post_insights (
    post_id             uuid primary key references scheduled_posts (id) on delete cascade,
    channel_id          uuid not null references channels (id) on delete cascade,
    workspace_id        uuid not null,
    -- Snapshots taken (or skipped) so far; the next one due is number snapshots_taken + 1.
    snapshots_taken     integer not null default 0,
    -- The media's timestamp as Meta reports it: the weekday and hour the post is filed under.
    media_published_at  timestamptz,
    -- Meta refused the media's insights for good (e.g. the media was deleted): no more fetches.
    error               text,
    updated_at          timestamptz not null default now()
);
create index post_insights_channel_idx on post_insights (channel_id, media_published_at);

-- Each snapshot's lifetime value of each metric (reach, likes, comments, shares, saved, total_interactions, views).
create table engagement_snapshots (
    post_id         uuid not null references scheduled_posts (id) on delete cascade,
    workspace_id    uuid not null,
    snapshot        integer not null,
    metric          text not null,
    value           bigint not null,
    measured_at     timestamptz not null,
    primary key (post_id, snapshot, metric)
);

-- An Instagram account's followers online per UTC hour (index 1 = 00:00 UTC), the latest measurement only.
create table channel_online_followers (
    channel_id      uuid primary key references channels (id) on delete cascade,
    workspace_id    uuid not null,
    by_utc_hour     bigint[] not null check (cardinality(by_utc_hour) = 24),
    measured_at     timestamptz not null
);

-- The fetcher's question: published Instagram posts, by when they were published.
create index scheduled_posts_instagram_published_idx on scheduled_posts (published_at)
    where status = 'published' and platform = 'instagram';

alter table post_insights enable row level security;
alter table engagement_snapshots enable row level security;
alter table channel_online_followers enable row level security;
create policy post_insights_read on post_insights for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy engagement_snapshots_read on engagement_snapshots for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
create policy channel_online_followers_read on channel_online_followers for select
    using (workspace_id = any ((select app_workspaces('{owner,admin,editor,contributor,viewer}'))::uuid[]));
grant select on post_insights, engagement_snapshots, channel_online_followers to socialsync_app;

-- WhatsApp read rates for members, and each message's delivery on the studio's post detail (PostDeliveryStore): a
-- post's delivery statuses are visible to whoever sees the post. Writes stay with the owner (the statuses
-- PublisherService forwards).
alter table delivery_statuses enable row level security;
create policy delivery_statuses_read on delivery_statuses for select
    using (exists (select 1 from scheduled_posts p where p.id = post_id));
grant select on delivery_statuses to socialsync_app;
