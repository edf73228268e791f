-- CreateExperiment takes a request_id (AIP-155), as CreatePost does: a retried create returns the first experiment
-- instead of making a second one whose variant posts would publish again. The hash tells a retry (the same request)
-- from a reuse of the request_id for another request (ALREADY_EXISTS).
alter table experiments add column request_id text, add column request_hash bytea;
create unique index experiments_request_id_idx on experiments (created_by, request_id) where request_id is not null;
