-- The due index (0001) keeps only the posts that wait for a time: queued ones (claims, the safety net, the gauges)
-- and those pending approval (ApprovalExpiry). Every query that reads it names one of those two statuses.
--
-- Indexed over every status, it took a new entry at each step of a post's way out (claimed, then its outcome: both
-- change the status), and kept every published post of the table's history. Partial, a claim and an outcome no longer
-- write to it, and at a million posts it holds the month ahead instead of everything ever published.
create index scheduled_posts_waiting_due_idx on scheduled_posts (status, due_at) where status in ('queued', 'pending_approval');
drop index scheduled_posts_due_idx;
