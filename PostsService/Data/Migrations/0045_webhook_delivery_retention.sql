-- Delivered and given-up webhook deliveries are deleted, with their attempts' log, once Webhooks:DeliveryRetention
-- (30 days) has passed since they ended (WebhookDeliveryWorker); until then ListWebhookDeliveries shows them and
-- RedeliverWebhook can send them again. Pending ones are never deleted.
--
-- A delivery ended at delivered_at, or, given up, when its last attempt's claim ran out: giving up leaves
-- next_attempt_at where that claim put it (a lease after the attempt began).
create index webhook_deliveries_ended_idx on webhook_deliveries ((coalesce(delivered_at, next_attempt_at))) where state <> 'pending';

-- The log goes with its delivery (on delete cascade); without an index on the delivery, each deletion scanned it all.
create index webhook_delivery_attempts_delivery_idx on webhook_delivery_attempts (delivery_id);
