-- ListPosts pages by keyset (issue 18, the million-post benchmark): a page token carries the last post's
-- (publish_at, id), and the next page reads "(publish_at, id) < (token's)" in the order "publish_at desc, id desc",
-- one workspace at a time. An index in that order is a range scan that stops after a page; the index of 0013 had
-- id ascending, so a row comparison on it could not be one range. This one serves every read the old one did
-- (a workspace's posts by publish time, the calendar's publish time ranges).
create index scheduled_posts_workspace_keyset_idx on scheduled_posts (workspace_id, publish_at desc, id desc);
drop index scheduled_posts_workspace_publish_idx;
