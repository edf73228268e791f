-- Two things every create paid for that nothing reads.
--
-- scheduled_posts_user_publish_idx (0005) served the per-user list, which workspaces (0013) replaced with the
-- workspace's list (scheduled_posts_workspace_keyset_idx, 0037); no query names a user and orders by publish_at any
-- more. A claim and an outcome change indexed columns (status, lease_expires_at, updated_at), so neither is a HOT
-- update: each wrote a new entry into this index too, three entries per published post.
drop index scheduled_posts_user_publish_idx;

-- The channel's foreign key of 0001 is implied by the (channel_id, workspace_id) one of 0013: both columns are not
-- null, so a row that matches a channel on both matches it on its id. Each checked the channel with its own probe
-- and row lock at every insert.
alter table scheduled_posts drop constraint scheduled_posts_channel_id_fkey;
