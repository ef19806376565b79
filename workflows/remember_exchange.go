package workflows

import (
	"strings"
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

// rememberUserTurnChange versions what a memory keeps of the user's side.
// Version 1 keeps the user turn as the conversation history does
// (userTurn: the text and the names of its images), so a message that is
// only an image is remembered, and starts no RememberExchange for a turn
// with no text at all (a bare forward), which Remember would refuse;
// before, it passed the text alone, refused when empty. Asked only when
// that differs from before (the message has images, or no text), so
// other replies carry no marker.
const rememberUserTurnChange = "remember-user-turn"

// rememberedTurn is the user's side of the exchange as RememberExchange
// gets it, and whether to start it (see rememberUserTurnChange).
func rememberedTurn(ctx workflow.Context, in GenerateReplyInput) (string, bool) {
	turn := userTurn(in)
	if turn == in.Content && strings.TrimSpace(turn) != "" {
		return turn, true
	}
	if workflow.GetVersion(ctx, rememberUserTurnChange, workflow.DefaultVersion, 1) < 1 {
		return in.Content, true
	}
	return turn, strings.TrimSpace(turn) != ""
}

// remember starts RememberExchange for a reply that was posted, abandoned
// (ParentClosePolicy ABANDON), and waits only until it has started, so the
// start is not lost when GenerateReply ends right after. A start that fails
// (the id already used) is logged: the memory is then written, or being
// written, by the run that holds the id. The child's input carries the
// message's mention names since they are kept as names; the SDK matches a
// replayed child start by its workflow type and id, not its input, so no
// version is needed.
func remember(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, reply string) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            RememberExchangeID(in.RequestID),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         "memory of " + speakerOf(in) + "'s exchange with " + p.DisplayName,
	})
	turn, ok := rememberedTurn(ctx, in)
	if !ok {
		return
	}
	err := workflow.ExecuteChildWorkflow(cctx, RememberExchange, activities.RememberInput{
		RequestID: in.RequestID, DiscordUserID: in.DiscordUserID, Username: in.Username,
		PersonalityID: p.ID, UserContent: turn, ReplyContent: reply, Mentions: in.Mentions,
	}).GetChildWorkflowExecution().Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("the exchange's memory workflow did not start", "error", err)
	}
}
