-- A request_id makes a repeated create return the first post (AIP-155); the same request_id sent with a different
-- request must be refused instead. The SHA-256 of the request that made the post (NewPost.RequestHash) is kept beside
-- its request_id to tell the two apart. Posts made before this column have none, and their repeats are answered as
-- before.
alter table scheduled_posts add column request_hash bytea;
