package activities

// The voice of a streamed reply: the text is already in the channel, so
// SpeakReply attaches the MP3 to the reply's first message by editing it.

import (
	"context"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/deliverykey"
)

// speakStreamed is SpeakReply for a reply that streamed under in.Streamed:
// it reads the first message back (its delivery row, then Discord), and
// when that message has no audio yet, synthesises the reply and attaches
// the MP3 to it. The text is never posted or changed here.
//
// A retry after the audio was attached finds it on the message (an
// attachment named audioName) and does not pay ElevenLabs again; an attach
// whose answer was lost is read back the same way. The first
// message deleted since, no key to pay with and nothing to say are not
// errors: the output is not Spoken. An attach that fails after the audio
// was paid for is ErrVoicePostFailed, non-retryable, with the usage row
// written once (callUsageID) or riding on it. Other errors are synthesise's
// and Discord's or the database's while reading the message.
func (a *Activities) speakStreamed(ctx context.Context, in SpeakReplyInput) (SpeakReplyOutput, error) {
	to := *in.Streamed
	if to.DeliveryKey == "" || to.ChannelID == "" || strings.TrimSpace(in.Content) == "" {
		return SpeakReplyOutput{}, badInput("streamed.delivery_key, streamed.channel_id and content are required")
	}
	p, err := a.voiceOf(ctx, in.PersonalityID)
	if err != nil {
		return SpeakReplyOutput{}, err
	}
	w := NewStreamWriter(a, to, Progress{})
	key := deliverykey.Part(to.DeliveryKey, 0)
	id, posted, err := a.delivered(ctx, key)
	if err != nil || !posted {
		return SpeakReplyOutput{}, err
	}
	first, err := w.readPosted(ctx, key, id)
	if err != nil || first == nil {
		return SpeakReplyOutput{}, err
	}
	if hasFile(first, audioName(p.Name)) {
		return SpeakReplyOutput{DiscordMessageID: first.ID, Spoken: true}, nil
	}
	if first.WebhookID != "" {
		// Only the webhook that posted it may edit it: found before paying.
		if _, err := w.hook(ctx, first.WebhookID); err != nil {
			return SpeakReplyOutput{}, refusedIfGone(err)
		}
	}
	speech, err := a.synthesise(ctx, in, p)
	if isType(err, ErrNoKey) || isType(err, ErrKeyInactive) || (err == nil && speech == nil) {
		return SpeakReplyOutput{DiscordMessageID: first.ID}, nil
	}
	if err != nil {
		return SpeakReplyOutput{}, err
	}
	if err := w.attach(ctx, first, speech.file(p)); err != nil {
		// Discord may have made the edit and lost only its answer.
		if m, rerr := w.readPosted(ctx, key, id); rerr != nil || m == nil || !hasFile(m, audioName(p.Name)) {
			return SpeakReplyOutput{}, speech.postFailed(err, "the voice could not be attached to the streamed reply; its text stays")
		}
	}
	return speech.output(first.ID), nil
}

// hasFile reports whether m has an attachment named name.
func hasFile(m *discordgo.Message, name string) bool {
	for _, at := range m.Attachments {
		if at.Filename == name {
			return true
		}
	}
	return false
}

// attach adds file to m, a message of the streamed reply, keeping what it
// has: Edit Webhook Message through the webhook that posted it, in that
// webhook's rate-limit bucket (webhookBucket), or Edit Message for a bot
// message, multipart with the file as files[0]. From API v10 an edit's
// attachments list names every attachment the message is to hold after
// it, the new file by the n of its files[n]
// (https://discord.com/developers/docs/reference#uploading-files).
func (w *StreamWriter) attach(ctx context.Context, m *discordgo.Message, file *discordgo.File) error {
	listed := make([]map[string]string, 0, len(m.Attachments)+1)
	for _, at := range m.Attachments {
		listed = append(listed, map[string]string{"id": at.ID})
	}
	listed = append(listed, map[string]string{"id": "0", "filename": file.Name})
	ct, body, err := discordgo.MultipartBodyWithJSON(map[string]any{"attachments": listed}, []*discordgo.File{file})
	if err != nil {
		return badInput("build the upload: " + err.Error())
	}
	uri, bucket := discordgo.EndpointChannelMessage(w.to.ChannelID, m.ID), discordgo.EndpointChannelMessage(w.to.ChannelID, "")
	if m.WebhookID != "" {
		hook, err := w.hook(ctx, m.WebhookID)
		if err != nil {
			return refusedIfGone(err)
		}
		uri, bucket = discordgo.EndpointWebhookMessage(hook.ID, hook.Token, m.ID), webhookBucket(hook.ID, hook.Token)
	}
	if _, err := w.a.Discord.RequestRaw(http.MethodPatch, uri, ct, body, bucket, 0, discordgo.WithContext(ctx)); err != nil {
		return discordError("attach the voice to the streamed reply", err)
	}
	return nil
}
