-- Token lifetime and recipients per post (issue 13).

-- When each channel's access token expires (null: it does not, or is not known to), and why the channel is marked
-- expiring (null: it is not): set when a token that cannot be refreshed nears its expiry, cleared by any new token.
-- An expiring channel still publishes, so this is kept apart from state (active / paused / needs_reconnect).
alter table channels add column token_expires_at timestamptz;
alter table channels add column token_expiring_reason text;

-- Instagram tokens connected before this was kept are long-lived ones (60 days); counted from the channel's
-- creation, the earliest they can have been issued, so they are refreshed early rather than late.
update channels set token_expires_at = created_at + interval '60 days'
where platform = 'instagram' and deleted_at is null;

-- The token refresher asks for the live channels whose token expires before a time.
create index channels_token_expires_idx on channels (token_expires_at) where deleted_at is null and token_expires_at is not null;

-- A WhatsApp post's own recipients (E.164 numbers), instead of its channel's; null means the channel's.
alter table scheduled_posts add column recipients text[];
