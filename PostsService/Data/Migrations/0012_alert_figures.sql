-- The alerts count the runs started within the last hour (retries per post, failure ratio) every few seconds:
-- without this index that is a scan of every run ever made.
create index post_runs_started_idx on post_runs (started_at);
