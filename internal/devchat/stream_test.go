//go:build integration

package devchat_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/devchat"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// A reply streamed into #general (a webhook post, then edits as the text
// grows, as activities.StreamWriter writes it) shows in a script once,
// complete, when the line that was running has ended, never half.
func TestChatScriptShowsAStreamedReplyOnceComplete(t *testing.T) {
	var dc *fakediscord.Server
	var session *discordgo.Session
	_, out, done, say := chatWorldTypingWith(t, func(o *devchat.ChatOptions) {
		dc, session = o.Discord, o.Bot.Session
		o.Linger = 500 * time.Millisecond
	})
	say("/help wallet")
	waitForOutput(t, out, "/wallet set")

	hook, err := session.WebhookCreate(devchat.ChatChannelID, "Tzurot", "")
	if err != nil {
		t.Fatal(err)
	}
	growing := []string{
		"Once upon a time there was a fox.",
		"Once upon a time there was a fox. It lived in a wood",
		"Once upon a time there was a fox. It lived in a wood by the sea,",
	}
	final := growing[len(growing)-1] + " and it was happy."
	m, err := session.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: growing[0], Username: "Demo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range append(growing[1:], final) {
		if _, err := session.WebhookMessageEdit(hook.ID, hook.Token, m.ID, &discordgo.WebhookEdit{Content: &text}); err != nil {
			t.Fatal(err)
		}
	}
	var history []string
	for _, msg := range dc.Messages(devchat.ChatChannelID) {
		if msg.ID == m.ID {
			history = msg.History
		}
	}
	if len(history) != len(growing)+1 {
		t.Fatalf("the stand-in recorded %d texts of the message, want the post and %d edits", len(history), len(growing))
	}
	if strings.Contains(out.String(), "Once upon") {
		t.Fatalf("the chat showed the reply while it was growing:\n%s", out)
	}
	// The next line ends the one that was running: the reply is shown.
	say("/help wallet")
	waitForOutput(t, out, "Demo: "+final)
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := strings.Count(out.String(), "Once upon"); n != 1 {
		t.Errorf("the reply shows %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out.String(), "(edited)") {
		t.Errorf("the streamed reply shows as edited:\n%s", out)
	}
}

// A reply of the real path, generated at a human pace (the stand-in as
// `make dev` paces it, faster), shows in a script once, complete: with the
// reply path streaming, the message is posted and edited as it grows
// (History says how often), and the chat still prints it once.
func TestChatScriptShowsAPacedReplyOnce(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("tell me a long story about a fox in a wood by the sea ", 6))
	dc, out, done, say := pacedChat(t, fakeopenrouter.StreamRate{FirstToken: 200 * time.Millisecond, TokensPerSecond: 100})
	say("@demo " + long)
	waitForOutput(t, out, "Demo: Echo from")
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := regexp.MustCompile(`(?m)^Demo:.*$`).FindAllString(out.String(), -1)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], long) {
		t.Errorf("the reply shows as %q, want one line ending in the whole echo:\n%s", lines, out)
	}
	for _, m := range dc.Messages(devchat.ChatChannelID) {
		if m.Author.Username == "Demo" {
			t.Logf("the reply's message was written %d times (post and edits)", len(m.History))
		}
	}
}

// A reply that fails after its first text was posted (the stand-in
// answers with reasoning only, which the reply path strips to nothing)
// has its half reply deleted (DiscardStream): a script never prints it,
// nor a note of its deletion, only the bot's notice.
func TestChatScriptNeverShowsADiscardedHalfReply(t *testing.T) {
	// Paced as `make dev` paces it, so the first sentence is posted
	// before the answer turns out to be reasoning only.
	dc, out, done, say := pacedChat(t, fakeopenrouter.StreamRate{FirstToken: 100 * time.Millisecond, TokensPerSecond: 20})
	say("@demo only thinking here. Nothing else to say at all, nothing at all </think>")
	waitForOutput(t, out, "couldn't answer")
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	deleted := 0
	for _, m := range dc.Messages(devchat.ChatChannelID) {
		if m.Deleted && strings.Contains(m.Content, "Echo from") {
			deleted++
		}
	}
	if deleted == 0 {
		t.Fatalf("no half reply was posted and deleted: the test did not meet a discarded stream\n%s", out)
	}
	if text := out.String(); strings.Contains(text, "Echo from") || strings.Contains(text, "(message deleted)") {
		t.Errorf("the transcript shows the discarded half reply or its deletion:\n%s", text)
	}
}

// pacedChat is a chat whose user has stored chatKey and whose next three
// OpenRouter calls answer at rate (embeddings take a step as OK, unpaced;
// the chat completion is paced).
func pacedChat(t *testing.T, rate fakeopenrouter.StreamRate) (*fakediscord.Server, *buffer, <-chan error, func(string)) {
	t.Helper()
	var dc *fakediscord.Server
	s, out, done, say := chatWorldTypingWith(t, func(o *devchat.ChatOptions) { dc = o.Discord })
	say("/wallet set")
	say(chatKey)
	waitForOutput(t, out, "works and is saved")
	s.OpenRouter.Script(chatKey, fakeopenrouter.OK().Paced(rate), fakeopenrouter.OK().Paced(rate), fakeopenrouter.OK().Paced(rate))
	return dc, out, done, say
}
