-- Channels that hold their posts (issue 13): a paused channel, or one whose token the platform rejected, keeps its
-- queued posts out of the scheduler's index instead of having them claimed and put back every minute.

-- The channel states whose queued posts wait for the channel (the one list every statement uses; the C# twin is
-- SocialSync.Contracts.ChannelStates.HoldsPosts). Any other state, present or future, publishes.
create or replace function holds_posts(state text) returns boolean language sql immutable as $$
    select state in ('paused', 'needs_reconnect')
$$;

-- When a channel starts or stops holding its posts, each of its queued posts gets a new version and an outbox row:
-- the relay then removes them from the index (holding) or puts them back at their due time (released). The new
-- version lets the index order these changes against any older one another replica may still be relaying.
-- A trigger, so that every path that changes a channel's state (an update by its user, an auth failure reported by
-- the publisher, any later one) moves its posts in the same transaction.
create or replace function record_channel_hold_change() returns trigger language plpgsql as $$
begin
    if holds_posts(old.state) is distinct from holds_posts(new.state) then
        with touched as (
            update scheduled_posts set updated_at = now()
            where channel_id = new.id and status = 'queued'
            returning id)
        insert into schedule_outbox (post_id) select id from touched;
    end if;
    return null;
end $$;

create trigger channels_hold_change after update of state on channels
    for each row execute function record_channel_hold_change();
