-- WhatsApp delivery statuses (issue 17): what Meta's status webhooks said about each message of a post, per
-- recipient, as PublisherService forwards them (DeliveryStore). One row per message (wamid); the status only moves
-- forward (sent < delivered < read < failed, DeliveryRules), so repeated and out-of-order statuses converge, and the
-- time of each status is kept as the earliest reported: a repeat writes the same values again.
create table delivery_statuses (
    post_id         uuid not null references scheduled_posts (id) on delete cascade,
    recipient_id    text not null,
    wamid           text not null,
    -- The attempt whose send made the message (from the send's biz_opaque_callback_data).
    attempt         integer not null,
    status          text not null check (status in ('sent', 'delivered', 'read', 'failed')),
    error_code      integer,
    error_title     text,
    sent_at         timestamptz,
    delivered_at    timestamptz,
    read_at         timestamptz,
    failed_at       timestamptz,
    primary key (post_id, recipient_id, wamid)
);
create index delivery_statuses_attempt_idx on delivery_statuses (post_id, attempt);

alter table scheduled_posts
    -- An unconfirmed post whose lost answer was its last send: that send's callback reference (post, attempt,
    -- recipient, step). A delivery status naming it settles the post as published.
    add column unconfirmed_send text,
    -- The highest attempt any delivery status arrived for. Written under the post's row lock, so the automatic
    -- resend (which requires none for the current attempt) re-checks it when the two race.
    add column delivery_status_attempt integer,
    -- The one automatic resend after a reconciliation window without any status has been used.
    add column delivery_resent boolean not null default false;

create index scheduled_posts_unconfirmed_send_idx on scheduled_posts (updated_at)
    where status = 'unconfirmed' and unconfirmed_send is not null;
