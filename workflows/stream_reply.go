package workflows

// The streamed reply's steps in GenerateReply: whether a reply streams, the
// generate activity's options when it does, the voice of a streamed reply,
// and the discarding of its messages when the reply ends without them.

import (
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/deliverykey"
)

// streamTarget is where GenerateReply streams the reply, nil when it does
// not. The personality streams (PersonalityRef.Stream, from
// ResolvePersonality), and the history is at version 1 of "stream-reply"
// for a reply not to be spoken, of "stream-voice" for one to be spoken
// (whose audio speakStreamed attaches once the text is there). Each version
// is asked only on its own branch: histories recorded before streaming
// (whose ResolvePersonality result has no Stream) carry no marker, and
// voiced replies recorded before "stream-voice", posted whole with their
// audio, asked none and replay so.
func streamTarget(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef) *activities.StreamTarget {
	if !p.Stream {
		return nil
	}
	change := "stream-reply"
	if voiced(in, p) {
		change = "stream-voice"
	}
	if workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) < 1 {
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

// speakStreamed gives a streamed reply its voice: SpeakReply attaches the
// audio to the first streamed message. A voice failure never costs the
// text, which is already there and stays: a refusal that is not the key's
// (ErrVoiceRefused) adds its one-line note under the reply (RewriteStream);
// a rejected user key is switched off and its owner told once, as for a
// reply posted whole; anything else is logged. Asked only under
// "stream-voice" 1, so it needs no version of its own.
func speakStreamed(ctx workflow.Context, in GenerateReplyInput, p activities.PersonalityRef, text string, to *activities.StreamTarget) {
	var out activities.SpeakReplyOutput
	err := workflow.ExecuteActivity(withSummary(ctx, voiceOptions, "speak "+p.DisplayName+"'s streamed reply (ElevenLabs) and attach it"), a.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{
			DeliveryKey: to.DeliveryKey, ChannelID: to.ChannelID, Username: to.Username, AvatarURL: to.AvatarURL,
			Content: text, PersonalityID: to.PersonalityID,
		},
		DiscordUserID: in.DiscordUserID, PersonalityID: p.ID, Streamed: to,
	}).Get(ctx, &out)
	if err == nil {
		recordPendingUsage(ctx, out.PendingUsage)
		return
	}
	recordPendingUsage(ctx, activities.PendingUsageOf(err))
	errType := errorType(err)
	log := workflow.GetLogger(ctx)
	log.Warn("no voice for this streamed reply; its text stays", "error_type", errType)
	switch errType {
	case activities.ErrVoiceRefused:
		note, _, _ := strings.Cut(appMessage(err), "\n")
		rctx := withSummary(ctx, discordOptions, "add why there is no voice under the streamed reply")
		if err := workflow.ExecuteActivity(rctx, a.RewriteStream, activities.RewriteStreamInput{
			Target: *to, Content: text + "\n-# " + note,
		}).Get(ctx, nil); err != nil {
			log.Error("the note on the missing voice was not added to the streamed reply", "error", err)
		}
	case activities.ErrInvalidKey, activities.ErrNoCredits:
		if err := voiceKeyRejected(ctx, in, errType, appMessage(err), failedKey(err)); err != nil {
			log.Error("the rejected ElevenLabs key was not switched off or the user not told", "error", err)
		}
	}
}
