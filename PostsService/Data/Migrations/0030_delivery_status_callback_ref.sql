-- Meta may report a send before PublisherService reports that the send's answer was lost: the status webhook and the
-- outcome race. A status that arrives first finds the post still publishing and cannot settle it, so the outcome must
-- see it: each status keeps the callback reference (biz_opaque_callback_data) of the send it reports.
alter table delivery_statuses add column callback_ref text;
