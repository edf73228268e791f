-- The complete public API (issue 3): deleted channels keep their posts' history; recurring posts form a series.

-- A deleted channel stays as a row (its posts still reference it) but disappears from the API; its token is wiped.
alter table channels add column deleted_at timestamptz;
create index channels_live_idx on channels (user_id, created_at) where deleted_at is null;

-- Each occurrence of a recurring post is its own post. series_id is the first post's id and series_start the
-- instant the recurrence rule counts from (COUNT and UNTIL hold across occurrences); both null on a first post.
alter table scheduled_posts add column series_id uuid, add column series_start timestamptz;
create unique index scheduled_posts_series_idx on scheduled_posts (series_id, publish_at) where series_id is not null;

-- The seed's "a user's posts" listing order and the statistics' 24 h window.
create index scheduled_posts_user_publish_idx on scheduled_posts (user_id, publish_at desc, id);
create index scheduled_posts_user_finished_idx on scheduled_posts (user_id, status, updated_at);
