package workflows

// The streamed reply's steps in GenerateReply: whether a reply streams, the
// generate activity's options when it does, and the discarding of its
// messages when the reply ends without them.

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/deliverykey"
)

// streamTarget is where GenerateReply streams the reply, nil when it does
// not: the personality streams (PersonalityRef.Stream, from
// ResolvePersonality), the reply is not one to be spoken (a voiced reply is
// posted whole with its audio), and the history is at version 1 of
// "stream-reply". The version is asked only for a streaming personality,
// so histories recorded before streaming (whose ResolvePersonality result
// has no Stream) replay without a marker.
func streamTarget(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef) *activities.StreamTarget {
	if !p.Stream || voiced(in, p) || workflow.GetVersion(ctx, "stream-reply", workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	return &activities.StreamTarget{
		DeliveryKey: deliverykey.New(GenerateReplyID(in.RequestID), deliverykey.Stream),
		ChannelID:   in.ChannelID, Username: p.DisplayName, AvatarURL: p.AvatarURL,
		PersonalityID: spokenBy(p),
	}
}

// voiced reports whether the reply to in is to be spoken by p's voice.
func voiced(in GenerateReplyInput, p activities.PersonalityRef) bool {
	return p.Voice != nil && activities.Speaks(in.RequestID, p.Voice.Frequency)
}

// streamingOptions are providerOptions for a streamed reply: the same
// retries and 10 s heartbeat (the writer's Progress, so a killed worker's
// retry continues its messages within seconds), and up to 5 minutes an
// attempt, since the attempt also writes the reply into Discord at the
// pace of its rate limit.
func streamingOptions(maxAttempts int32) workflow.ActivityOptions {
	o := providerOptions(maxAttempts)
	o.StartToCloseTimeout = 5 * time.Minute
	return o
}

// discardStream deletes what a streamed reply posted, when the reply ends
// without it; a failure is logged, not the reply's (what it posts instead
// still goes out).
func discardStream(ctx workflow.Context, to *activities.StreamTarget) {
	if to == nil {
		return
	}
	dctx := withSummary(ctx, discordOptions, "delete the streamed reply's messages")
	if err := workflow.ExecuteActivity(dctx, a.DiscardStream, activities.DiscardStreamInput{Target: *to}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("the streamed reply's messages were not deleted", "error", err)
	}
}
