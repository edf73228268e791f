

using ConcurrentChangeException = SocialSync.PostsService.Domain.ConcurrentChangeException;
using FailedPreconditionException = SocialSync.PostsService.Domain.FailedPreconditionException;
using OutcomeKind = SocialSync.Posts.V1.OutcomeKind;
using OutcomeRules = SocialSync.PostsService.Domain.OutcomeRules;
using PostLifecycle = SocialSync.PostsService.Domain.PostLifecycle;
using PostStatus = SocialSync.Posts.V1.PostStatus;
using PublishOutcome = SocialSync.Posts.V1.PublishOutcome;
using RetryOptions = SocialSync.PostsService.Domain.RetryOptions;
using RetryPolicy = SocialSync.PostsService.Domain.RetryPolicy;

namespace SocialSync.PostsService.Tests;

/// <summary>The post lifecycle: which status may follow which, and what a user may still edit, cancel or delete.</summary>
public sealed class PostLifecycleTests
{
    private static readonly PostStatus[] All =
    [
        PostStatus.Queued, PostStatus.Publishing, PostStatus.Published, PostStatus.Failed,
        PostStatus.Cancelled, PostStatus.Missed, PostStatus.Unconfirmed,
        PostStatus.Draft, PostStatus.PendingApproval, PostStatus.Rejected, PostStatus.Expired,
    ];

    [Fact]
    public void Only_posts_that_have_not_gone_out_may_be_edited_or_cancelled()
    {
        PostStatus[] open =
        [
            PostStatus.Queued, PostStatus.Failed, PostStatus.Missed, PostStatus.Unconfirmed,
            PostStatus.Draft, PostStatus.PendingApproval, PostStatus.Rejected, PostStatus.Expired,
        ];

        Assert.Equal(open, PostLifecycle.Editable);
        Assert.Equal(open, PostLifecycle.Cancellable);
        Assert.Equal(open, All.Where(PostLifecycle.IsEditable));
        Assert.Equal(open, All.Where(PostLifecycle.IsCancellable));
    }

    [Fact]
    public void The_SQL_guards_name_the_editable_statuses_in_the_databases_words()
    {
        Assert.Equal(new[] { "queued", "failed", "missed", "unconfirmed", "draft", "pending_approval", "rejected", "expired" },
            PostLifecycle.Words(PostLifecycle.Editable));
        Assert.Equal(new[] { "queued", "published", "failed", "cancelled", "missed", "unconfirmed", "draft", "pending_approval", "rejected", "expired" },
            PostLifecycle.Words(PostLifecycle.Deletable));
    }

    [Fact]
    public void A_queued_post_is_claimed_or_missed_and_only_a_publishing_post_reaches_an_outcome()
    {
        Assert.True(PostLifecycle.IsLegal(PostStatus.Queued, PostStatus.Publishing));
        Assert.True(PostLifecycle.IsLegal(PostStatus.Queued, PostStatus.Missed));
        Assert.False(PostLifecycle.IsLegal(PostStatus.Publishing, PostStatus.Missed));
        foreach (var outcome in new[] { PostStatus.Published, PostStatus.Failed, PostStatus.Unconfirmed })
        {
            Assert.True(PostLifecycle.IsLegal(PostStatus.Publishing, outcome));
            Assert.False(PostLifecycle.IsLegal(PostStatus.Queued, outcome));
        }
        Assert.True(PostLifecycle.IsLegal(PostStatus.Publishing, PostStatus.Queued));
        Assert.False(PostLifecycle.IsLegal(PostStatus.Publishing, PostStatus.Cancelled));
        Assert.False(PostLifecycle.IsLegal(PostStatus.Failed, PostStatus.Publishing));
    }

    [Fact]
    public void A_post_under_review_is_queued_only_by_an_approval_or_a_submit_that_needs_none()
    {
        Assert.True(PostLifecycle.IsLegal(PostStatus.PendingApproval, PostStatus.Queued));
        Assert.True(PostLifecycle.IsLegal(PostStatus.PendingApproval, PostStatus.Rejected));
        Assert.True(PostLifecycle.IsLegal(PostStatus.PendingApproval, PostStatus.Expired));
        Assert.True(PostLifecycle.IsLegal(PostStatus.Queued, PostStatus.PendingApproval));
        Assert.False(PostLifecycle.IsLegal(PostStatus.PendingApproval, PostStatus.Publishing));
        Assert.False(PostLifecycle.IsLegal(PostStatus.Draft, PostStatus.Publishing));
        // An edit never approves: a draft stays one, a rejected or expired post goes back to its author as a draft.
        Assert.Equal(PostStatus.Draft, PostLifecycle.AfterEdit(PostStatus.Draft));
        Assert.Equal(PostStatus.Draft, PostLifecycle.AfterEdit(PostStatus.Rejected));
        Assert.Equal(PostStatus.Draft, PostLifecycle.AfterEdit(PostStatus.Expired));
        Assert.Equal(PostStatus.PendingApproval, PostLifecycle.AfterEdit(PostStatus.PendingApproval));
        Assert.Equal(PostStatus.Queued, PostLifecycle.AfterEdit(PostStatus.Failed));
    }

    [Fact]
    public void Published_and_cancelled_are_final()
    {
        foreach (var to in All)
        {
            Assert.False(PostLifecycle.IsLegal(PostStatus.Published, to));
            Assert.False(PostLifecycle.IsLegal(PostStatus.Cancelled, to));
        }
    }

    [Fact]
    public void Every_outcome_an_attempt_can_report_moves_its_post_legally_from_publishing()
    {
        var kinds = System.Enum.GetValues<OutcomeKind>().Where(k => k != OutcomeKind.Unspecified).ToList();
        Assert.Equal(7, kinds.Count);
        foreach (var kind in kinds)
        {
            foreach (var retries in new[] { 0, 3 })
            {
                var outcome = new PublishOutcome { PostId = Guid.NewGuid().ToString(), Attempt = 1, Kind = kind };
                var decision = OutcomeRules.Decide(outcome, retries, DateTimeOffset.UnixEpoch, new RetryPolicy(new RetryOptions()), 0.5)!;
                Assert.True(PostLifecycle.IsLegal(PostStatus.Publishing, decision.Status), $"{kind} after {retries} retries -> {decision.Status}");
            }
        }
    }

    [Fact]
    public void Editing_a_failed_missed_or_unconfirmed_post_queues_it_again_and_a_queued_one_is_edited_in_place()
    {
        Assert.False(PostLifecycle.CheckEdit(PostStatus.Queued));
        Assert.True(PostLifecycle.CheckEdit(PostStatus.Failed));
        Assert.True(PostLifecycle.CheckEdit(PostStatus.Missed));
        Assert.True(PostLifecycle.CheckEdit(PostStatus.Unconfirmed));
    }

    [Fact]
    public void Editing_a_publishing_published_or_cancelled_post_is_refused_with_the_reason()
    {
        Assert.Equal("The post is being published; it can be edited once the attempt finishes.",
            Assert.Throws<FailedPreconditionException>(() => PostLifecycle.CheckEdit(PostStatus.Publishing)).Message);
        Assert.Equal("A published post cannot be edited.",
            Assert.Throws<FailedPreconditionException>(() => PostLifecycle.CheckEdit(PostStatus.Published)).Message);
        Assert.Equal("A cancelled post cannot be edited.",
            Assert.Throws<FailedPreconditionException>(() => PostLifecycle.CheckEdit(PostStatus.Cancelled)).Message);
    }

    [Fact]
    public void A_cancel_refused_says_whether_the_etag_was_stale_or_the_status_forbids_it()
    {
        Assert.IsType<ConcurrentChangeException>(PostLifecycle.CancelRefused(PostStatus.Queued, version: 3, etag: 2));
        Assert.Equal("The post is already cancelled.", PostLifecycle.CancelRefused(PostStatus.Cancelled, 3, etag: 2).Message);
        Assert.Equal("A published post cannot be cancelled.", PostLifecycle.CancelRefused(PostStatus.Published, 3, null).Message);
        Assert.IsType<FailedPreconditionException>(PostLifecycle.CancelRefused(PostStatus.Publishing, 3, null));
    }

    [Fact]
    public void A_post_may_be_deleted_unless_it_is_being_published()
    {
        Assert.IsType<FailedPreconditionException>(PostLifecycle.DeleteRefused(PostStatus.Publishing));
        foreach (var status in All.Where(s => s != PostStatus.Publishing))
        {
            Assert.IsType<ConcurrentChangeException>(PostLifecycle.DeleteRefused(status));
        }
    }

    [Fact]
    public void An_edit_that_lost_a_race_is_stale_while_the_post_is_still_editable_and_refused_once_it_is_not()
    {
        Assert.IsType<ConcurrentChangeException>(PostLifecycle.EditRaceLost(PostStatus.Queued));
        Assert.Equal("The post became publishing while it was being edited.", PostLifecycle.EditRaceLost(PostStatus.Publishing).Message);
    }
}
