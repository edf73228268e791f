-- The studio's post detail shows each WhatsApp message's delivery (PostDeliveryStore): the API role reads
-- delivery_statuses, and sees only the rows of the posts it can see (scheduled_posts' own policy decides, so the
-- members of the post's workspace, whatever their role). Writes stay with the owner (PublisherService's statuses).
alter table delivery_statuses enable row level security;
create policy delivery_statuses_read on delivery_statuses for select
    using (exists (select from scheduled_posts p where p.id = delivery_statuses.post_id));
grant select on delivery_statuses to socialsync_app;
