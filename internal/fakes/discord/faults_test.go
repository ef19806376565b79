package discord_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
)

const executeWebhook = "POST /webhooks/{webhook_id}/{webhook_token}"

func TestDropNextClosesTheConnectionWithoutAnAnswer(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Personas")
	fake.DropNext(executeWebhook)
	_, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "lost"})
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, io.EOF) {
		t.Fatalf("err = %T %v, want a *url.Error wrapping io.EOF", err, err)
	}
	// This is the leak redaction exists for: the error quotes the token.
	if !strings.Contains(err.Error(), hook.Token) {
		t.Errorf("the transport error does not quote the URL: %v", err)
	}
	if n := len(fake.Messages(chanID)); n != 0 {
		t.Errorf("%d messages posted by a dropped request", n)
	}
	reqs := fake.Requests()
	if last := reqs[len(reqs)-1]; last.Route != executeWebhook || last.Status != 0 {
		t.Errorf("dropped request recorded as %s %d", last.Route, last.Status)
	}
	// Once only.
	if _, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "kept"}); err != nil {
		t.Fatal(err)
	}
	if msgs := fake.Messages(chanID); len(msgs) != 1 || msgs[0].Content != "kept" {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestDropNextAfterHandlingKeepsTheEffect(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	fake.DropNextAfterHandling("POST /channels/" + chanID + "/messages")
	if _, err := s.ChannelMessageSend(chanID, "taken"); err == nil {
		t.Fatal("the dropped answer reached the client")
	}
	if msgs := fake.Messages(chanID); len(msgs) != 1 || msgs[0].Content != "taken" {
		t.Errorf("messages = %+v, want the post Discord took", msgs)
	}
}

func TestTokensHaveDiscordsShapes(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Personas")
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{68}$`).MatchString(hook.Token) {
		t.Errorf("webhook token %q is not 68 base64url characters", hook.Token)
	}
	// A callback for an interaction the fake was not told about.
	in := &discordgo.Interaction{ID: "5500000000000000002", AppID: botID, Token: discord.InteractionToken("5500000000000000002")}
	raw, err := base64.RawURLEncoding.DecodeString(in.Token)
	if err != nil || !strings.HasPrefix(string(raw), "interaction:"+in.ID+":") {
		t.Errorf("interaction token %q does not decode to interaction:%s:...", in.Token, in.ID)
	}
	if err := s.InteractionRespond(in, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	fake.AddInteraction(discord.Interaction{ID: "5500000000000000001", Token: "tok-added", ChannelID: chanID})
	fake.Reset()
	webhooks, interactions := fake.Tokens()
	if !slices.Equal(webhooks, []string{hook.Token}) {
		t.Errorf("webhook tokens = %v, want [%s]", webhooks, hook.Token)
	}
	want := []string{in.Token, "tok-added"}
	slices.Sort(want)
	if !slices.Equal(interactions, want) {
		t.Errorf("interaction tokens = %v, want %v", interactions, want)
	}
}
