-- app_batch_membership (0028) paired one channel with one poster per call; migration 0049 replaced its only caller,
-- the group commit's channel read, with app_batch_memberships() and kept it for PostsServices of the version before,
-- which may still run during a rolling deployment. Every PostsService since then reads through 0049's function, so
-- the old one goes.

drop function app_batch_membership(uuid, uuid);
