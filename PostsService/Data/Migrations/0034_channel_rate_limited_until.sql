-- A channel the platform rate-limited, and until when (issue 18: replicas). PublisherService kept this in its own
-- memory, so a second publisher replica called Meta for the channel's next post and met the same 429. A deferred
-- outcome that names the channel sets it; every run opened for the channel carries it to whichever replica runs it.
alter table channels add column rate_limited_until timestamptz;
