//go:build integration

package activities_test

// The streamed reply's promise that a killed or failed attempt
// ends as exactly one complete reply: crash windows, a webhook that goes
// away, bot messages and two replies of one personality in one channel.

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

const botPostRoute = "POST /channels/{channel_id}/messages"

// In a channel without our webhook the reply streams as bot messages. A
// worker that died after Discord made the first bot message but before
// the delivery recorded it leaves a begun row; the retry (shorter answer,
// posted whole at Finish) must not leave the killed attempt's words.
func TestStreamBotMessageRetryAfterAnUnrecordedPost(t *testing.T) {
	f := botFixtureWithALostPost(t, "bn1/reply")
	ctx := context.Background()
	if n := len(f.live(channelID)); n != 1 {
		t.Fatalf("after the dropped post the channel has %d messages, want 1", n)
	}
	text := "A short answer this time. Nothing more."
	retry := f.resumed(t, "bn1/reply", activities.Progress{})
	if _, err := retry.Finish(ctx, text); err != nil {
		t.Fatal(err)
	}
	want := []string{"**Kerach:** " + text}
	if got := contents(f.live(channelID)); !slices.Equal(got, want) {
		t.Errorf("the channel shows %q after the retry, want only %q", got, want)
	}
}

// The same crash window for a second part of a bot-message reply: the
// retry's answer differs, and its second part must replace the killed
// attempt's second part.
func TestStreamBotMessageRetryAfterAnUnrecordedSecondPart(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	f.discord.DenyWebhooks(channelID)
	f.discord.DenyWebhooks(wholeChannelID)
	ctx := context.Background()
	w := activities.NewStreamWriter(f.acts, target("bn2/reply"), activities.Progress{})
	if err := w.Update(ctx, "The first part, begun. More follows"); err != nil {
		t.Fatal(err)
	}
	f.discord.DropNextAfterHandling(botPostRoute)
	if _, err := w.Finish(ctx, strings.TrimSpace(reply("first", 500))); err == nil {
		t.Fatal("the dropped post of the second part did not fail")
	}
	f.retryEndsAs(t, "bn2/reply", strings.TrimSpace(reply("second", 500)), 0)
}

// retryEndsAs resumes key as a retry does, streams the first toks tokens
// of text, finishes with text, and checks the channel holds exactly text's
// parts.
func (f *streamFixture) retryEndsAs(t *testing.T, key, text string, toks int) {
	t.Helper()
	ctx := context.Background()
	retry := f.resumed(t, key, activities.Progress{})
	if err := feed(ctx, retry, tokens(text)[:toks], 0); err != nil {
		t.Fatal(err)
	}
	if _, err := retry.Finish(ctx, text); err != nil {
		t.Fatal(err)
	}
	if got, want := contents(f.live(channelID)), f.wholeParts(t, text); !slices.Equal(got, want) {
		t.Errorf("the channel shows %d messages %.80q after the retry, want its %d parts %.80q", len(got), got, len(want), want)
	}
}

// A webhook deleted by an admin mid-stream: the half reply cannot be
// finished through it, so the workflow discards the streamed messages and
// posts the reply whole. Discord keeps a deleted webhook's messages; the
// discard must still remove the half reply (the bot may delete messages
// in a channel it can manage), or no stray half message is broken.
func TestStreamWebhookDeletedMidStreamLeavesNoHalfReply(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	w := activities.NewStreamWriter(f.acts, target("wd1/reply"), activities.Progress{})
	if err := w.Update(ctx, strings.TrimSpace(reply("half", 40))); err != nil {
		t.Fatal(err)
	}
	f.discord.DeleteWebhooks(channelID)
	text := strings.TrimSpace(reply("whole", 60))
	_, ferr := w.Finish(ctx, text)
	t.Logf("Finish after the webhook was deleted: %v", ferr)
	if ferr == nil {
		if got := contents(f.live(channelID)); !slices.Equal(got, []string{text}) {
			t.Errorf("Finish succeeded but the channel shows %q", got)
		}
		return
	}
	// As the workflow does: discard, then post whole.
	derr := f.acts.DiscardStream(ctx, activities.DiscardStreamInput{Target: target("wd1/reply")})
	t.Logf("DiscardStream: %v", derr)
	postWhole(t, f, "wd1/whole", channelID, text)
	got := f.live(channelID)
	if len(got) != 1 {
		t.Errorf("after the discard and the whole post the channel shows %d messages %q, want only the whole reply", len(got), contents(got))
	}
}

// postWhole posts text as GenerateReply's reply step does (PostReply).
func postWhole(t *testing.T, f *streamFixture, key, channel, text string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.acts.PostReply(ctx, activities.PostReplyInput{DeliveryKey: key, ChannelID: channel, Username: "Kerach", Content: text}); err != nil {
		t.Fatal(err)
	}
}

const webhookPostRoute = "POST /webhooks/{webhook_id}/{webhook_token}"

// Two streamed replies of one personality in one channel, both killed in
// the crash window: each retry ends with its own complete text and no
// stray message.
func TestStreamTwoKilledStreamsOfOnePersonality(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	for _, key := range []string{"kb/reply", "kc/reply"} {
		f.discord.DropNextAfterHandling(webhookPostRoute)
		if err := activities.NewStreamWriter(f.acts, target(key), activities.Progress{}).Update(ctx, reply("half "+key, 40)); err == nil {
			t.Fatal("the dropped streamed post did not fail")
		}
	}
	texts := map[string]string{"kc/reply": "The answer to C. It is short.", "kb/reply": "The answer to B. Also short."}
	ids := map[string][]string{}
	for _, key := range []string{"kc/reply", "kb/reply"} { // the later one retries first
		var err error
		if ids[key], err = f.resumed(t, key, activities.Progress{}).Finish(ctx, texts[key]); err != nil {
			t.Fatal(err)
		}
	}
	byID := map[string]string{}
	for _, m := range f.live(channelID) {
		byID[m.ID] = m.Content
	}
	if len(byID) != 2 {
		t.Errorf("the channel holds %d messages %v, want 2", len(byID), byID)
	}
	for key, text := range texts {
		if len(ids[key]) != 1 || byID[ids[key][0]] != text {
			t.Errorf("reply %s ended as %v, want one message holding %q", key, ids[key], text)
		}
	}
}

// A retry dies inside Finish: it edited the first part to its own (short)
// answer, and its deletion of the killed attempt's later parts never went
// out. A third attempt, whose answer has two parts, must end with exactly
// its parts, the first attempt's third part gone.
func TestStreamRetryKilledInsideFinish(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	f.killedAttempt(t, "kf/reply", reply("first", 700)[:4200], 3)
	f.discord.DropNext("DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
	if _, err := f.resumed(t, "kf/reply", activities.Progress{}).Finish(ctx, "A short answer. Nothing more."); err == nil {
		t.Fatal("the dropped deletion did not fail Finish")
	}
	f.retryEndsAs(t, "kf/reply", strings.TrimSpace(reply("third", 400)), 40)
}

// A retry whose answer has as many parts as the killed attempt's, each of
// a different length: every message ends holding the retry's part.
func TestStreamRetryOfTheSameLength(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	first := strings.TrimSpace(reply("aaaaa", 400))
	f.killedAttempt(t, "sl/reply", first, len(f.wholeParts(t, first)))
	text := strings.TrimSpace(reply("bbbbb", 400))
	f.retryEndsAs(t, "sl/reply", text, len(tokens(text)))
}

// A reply streaming as bot messages whose first post reached Discord but
// whose answer was lost, then fails (a mid-stream error): the workflow's
// discard must find and delete that bot message too, as it finds a webhook
// post (TestDiscardStreamFindsAnUnrecordedPost), or the half reply stays
// beside the failure notice.
func TestStreamDiscardFindsAnUnrecordedBotPost(t *testing.T) {
	f := botFixtureWithALostPost(t, "bd1/reply")
	ctx := context.Background()
	if err := f.acts.DiscardStream(ctx, activities.DiscardStreamInput{Target: target("bd1/reply")}); err != nil {
		t.Fatal(err)
	}
	if got := contents(f.live(channelID)); len(got) != 0 {
		t.Errorf("after the discard the channel still shows %.80q", got)
	}
}

// A moderator deletes the streamed message while it grows: the reply must
// still end whole in the channel (Finish posting it again, or the
// workflow's discard and whole post), once.
func TestStreamedMessageDeletedMidStream(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	w := activities.NewStreamWriter(f.acts, target("md1/reply"), activities.Progress{})
	if err := w.Update(ctx, strings.TrimSpace(reply("half", 40))); err != nil {
		t.Fatal(err)
	}
	first := f.live(channelID)[0]
	if err := f.acts.Discord.ChannelMessageDelete(channelID, first.ID); err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(reply("whole", 60))
	if _, err := w.Finish(ctx, text); err != nil {
		t.Logf("Finish: %v; the workflow discards and posts whole", err)
		if err := f.acts.DiscardStream(ctx, activities.DiscardStreamInput{Target: target("md1/reply")}); err != nil {
			t.Fatal(err)
		}
		postWhole(t, f, "md1/whole", channelID, text)
	}
	if got := contents(f.live(channelID)); !slices.Equal(got, []string{text}) {
		t.Errorf("the channel shows %.80q, want the whole reply once", got)
	}
}

// A DM cannot have webhooks (Discord answers 50003 to listing or making
// one), so a reply streamed in a DM is the bot's own message. This checks
// the stand-in as much as the product: a stand-in that makes webhooks in a
// DM lets every DM test run the webhook path instead.
func TestStreamInADMIsABotMessage(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	dm, err := f.acts.Discord.UserChannelCreate("300000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	to := target("dm1/reply")
	to.ChannelID = dm.ID
	text := strings.TrimSpace(reply("dm", 60))
	if _, err := activities.NewStreamWriter(f.acts, to, activities.Progress{}).Finish(ctx, text); err != nil {
		t.Fatal(err)
	}
	got := f.live(dm.ID)
	if len(got) != 1 || got[0].WebhookID != "" || got[0].Content != "**Kerach:** "+text {
		for _, m := range got {
			t.Logf("DM message %s by webhook %q: %.60q", m.ID, m.WebhookID, m.Content)
		}
		t.Errorf("the DM shows %d messages; want one bot message", len(got))
	}
}

// botFixtureWithALostPost is a channel without our webhook where a reply
// streamed under key made its first bot message, whose answer was lost
// (the stand-in dropped it after handling): a begun delivery, no id.
func botFixtureWithALostPost(t *testing.T, key string) *streamFixture {
	t.Helper()
	f := newStreamFixture(t, fakediscord.Options{})
	f.discord.DenyWebhooks(channelID)
	f.discord.DropNextAfterHandling(botPostRoute)
	if err := activities.NewStreamWriter(f.acts, target(key), activities.Progress{}).Update(context.Background(), reply("half", 40)); err == nil {
		t.Fatal("the dropped post did not fail")
	}
	return f
}
