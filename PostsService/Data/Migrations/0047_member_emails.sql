-- What the Members page shows for a teammate: the e-mail address their sign-in gave when they created the workspace
-- or joined it (the identity provider's email claim, in the access token when the email scope was granted). The
-- identity provider owns accounts; PostsService keeps only this copy, for display. Null for members who joined
-- before, or with a token without the claim.
alter table workspace_members add column email text check (length(email) <= 320);

-- A member records their own address and nothing else of their row: security definer, because a contributor may not
-- update membership rows (workspace_members_change is for owners and admins).
create function record_member_email(workspace uuid, address text) returns void language sql security definer
set search_path from current as $$
    update workspace_members set email = address where workspace_id = workspace and user_id = app_user_id();
$$;
