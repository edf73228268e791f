-- A post's row is updated three times on its way out (claimed, call started, outcome), and each update changes an
-- indexed column, so each one writes a new entry into every index of the table. These three served no query: posts
-- are listed by publish_at (scheduled_posts_user_publish_idx), statistics read all of a user's rows, and a filter
-- on platform is always within one user's rows.
drop index if exists scheduled_posts_user_idx;
drop index if exists scheduled_posts_platform_idx;
drop index if exists scheduled_posts_user_finished_idx;

-- Whether an attempt may have reached the platform is now read from its run (StartRuns opens one before any call)
-- instead of being written to the post: one update fewer on every post's way out.
alter table scheduled_posts drop column call_started;
