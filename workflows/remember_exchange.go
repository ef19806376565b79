package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

// RememberExchangeName is the registered type of RememberExchange.
const RememberExchangeName = "RememberExchange"

// RememberExchangeID is the workflow id of the memory of request
// requestID's exchange: reply/<request_id>/memory, so it runs once per reply.
func RememberExchangeID(requestID string) string { return GenerateReplyID(requestID) + "/memory" }

// RememberExchange writes the memory of one exchange (the Remember
// activity) after its reply was posted, retrying in the background while
// OpenRouter's embeddings endpoint fails or asks to wait, for up to a day.
// GenerateReply starts it as a child it abandons, so neither the reply nor
// its workflow's end waits for it. Its result is Remember's; it fails only
// when the memory cannot be written (a key refused, a bad request, a day
// of failures).
func RememberExchange(ctx workflow.Context, in activities.RememberInput) (activities.RememberOutput, error) {
	var out activities.RememberOutput
	err := workflow.ExecuteActivity(withSummary(ctx, rememberOptions, "embed and store the exchange's memory"), a.Remember, in).Get(ctx, &out)
	if err != nil {
		return out, err
	}
	recordPendingUsage(ctx, out.PendingUsage)
	return out, nil
}

// rememberOptions: backoff from 2 s to 10 min, for a day; no retry of the
// failures that would come back the same.
var rememberOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        10 * time.Minute,
		NonRetryableErrorTypes: append(append([]string{}, activities.ProviderFailures...), activities.KeyFailures...),
	},
}

// remember starts RememberExchange for a reply that was posted, abandoned
// (ParentClosePolicy ABANDON), and waits only until it has started, so the
// start is not lost when GenerateReply ends right after. A start that fails
// (the id already used) is logged: the memory is then written, or being
// written, by the run that holds the id.
func remember(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, reply string) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            RememberExchangeID(in.RequestID),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         "memory of " + speakerOf(in) + "'s exchange with " + p.DisplayName,
	})
	err := workflow.ExecuteChildWorkflow(cctx, RememberExchange, activities.RememberInput{
		RequestID: in.RequestID, DiscordUserID: in.DiscordUserID, Username: in.Username,
		PersonalityID: p.ID, UserContent: in.Content, ReplyContent: reply,
	}).GetChildWorkflowExecution().Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("the exchange's memory workflow did not start", "error", err)
	}
}
