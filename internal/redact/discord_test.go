package redact

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// Fake Discord credentials in the real shapes (see redact_test.go on why
// they are built at run time).
var (
	// Webhook tokens: 68 base64url characters.
	webhookToken  = strings.Repeat("FAKEfake09_-", 6)[:68]
	webhookToken2 = strings.Repeat("fakeFAKE-_90", 6)[:68]
	// Interaction tokens: base64url of "interaction:<id>:<random>".
	interactionToken = base64.RawURLEncoding.EncodeToString([]byte(
		"interaction:1500000000000000001:" + strings.Repeat("FAKEfake", 16)))
	// A token of no known shape, as tests and stand-ins use.
	plainToken = "tok-1500000000000000123"
)

const (
	webhookID = "1200000000000000001"
	appID     = "1100000000000000001"
	interID   = "1500000000000000001"
)

// hidden is the case of a text that is want with secrets where want has
// Mask, in order: the input is written once, as String should leave it.
func hidden(name, want string, secrets ...string) redactCase {
	parts := strings.Split(want, Mask)
	if len(parts) != len(secrets)+1 {
		panic(fmt.Sprintf("case %q: %d masks for %d secrets", name, len(parts)-1, len(secrets)))
	}
	var in strings.Builder
	for i, p := range parts {
		in.WriteString(p)
		if i < len(secrets) {
			in.WriteString(secrets[i])
		}
	}
	return redactCase{name, in.String(), want}
}

func TestStringRedactsDiscordCredentials(t *testing.T) {
	m := Mask
	tests := []redactCase{
		// Webhook URLs, on every host and API version.
		hidden("url.Error of a webhook POST",
			`Post "https://discord.com/api/v9/webhooks/`+webhookID+"/"+m+`?wait=true": EOF`, webhookToken),
		hidden("webhook URL without version",
			"https://discord.com/api/webhooks/"+webhookID+"/"+m, webhookToken),
		hidden("legacy discordapp.com host",
			"https://discordapp.com/api/webhooks/"+webhookID+"/"+m+" failed", webhookToken),
		hidden("canary host, v10, a webhook message",
			"https://canary.discord.com/api/v10/webhooks/"+webhookID+"/"+m+"/messages/1300000000000000001", webhookToken),
		hidden("ptb host with thread_id",
			"https://ptb.discord.com/api/webhooks/"+webhookID+"/"+m+"?thread_id=1300000000000000001&wait=true", webhookToken),
		hidden("a DISCORD_API_BASE stand-in host",
			`Patch "http://127.0.0.1:41234/api/v9/webhooks/`+webhookID+"/"+m+`/messages/@original": read: connection reset by peer`, plainToken),
		hidden("a path with no host",
			"POST /api/v9/webhooks/"+webhookID+"/"+m+" -> 502", plainToken),
		hidden("percent-encoded inside a query string",
			"next=https%3A%2F%2Fdiscord.com%2Fapi%2Fwebhooks%2F"+webhookID+"%2F"+m+"&x=1", webhookToken),
		hidden("webhook URL percent-encoded twice",
			"u=https%253A%252F%252Fdiscord.com%252Fapi%252Fwebhooks%252F"+webhookID+"%252F"+m, webhookToken),
		hidden("webhook URL with \\u002f slashes",
			`{"url":"https:\u002f\u002fdiscord.com\u002fapi\u002fwebhooks\u002f`+webhookID+`\u002f`+m+`"}`, webhookToken),
		hidden("JSON-escaped slashes",
			`{"url":"https:\/\/discord.com\/api\/webhooks\/`+webhookID+`\/`+m+`"}`, webhookToken),

		// Interactions: the callback, and follow-ups through the
		// application's webhook with the interaction token.
		hidden("interaction callback",
			`Post "https://discord.com/api/v9/interactions/`+interID+"/"+m+`/callback?with_response=true": EOF`, interactionToken),
		hidden("interaction callback with a token of no known shape",
			"/api/v10/interactions/"+interID+"/"+m+"/callback", plainToken),
		hidden("interaction follow-up",
			"https://discord.com/api/v9/webhooks/"+appID+"/"+m+"?wait=true", interactionToken),
		hidden("interaction original response edit",
			"PATCH https://discord.com/api/v9/webhooks/"+appID+"/"+m+"/messages/@original", interactionToken),

		// Tokens on their own.
		hidden("bare interaction token",
			"deferred "+m+" then failed", interactionToken),
		hidden("bare webhook token, a discordgo.Webhook printed with %v",
			"&{"+webhookID+" 1  900000000000000001 <nil> Tzurot  "+m+" "+appID+"}", webhookToken),
		hidden("two bare webhook tokens one character apart",
			m+" "+m, webhookToken, webhookToken2),
		hidden("token field in JSON",
			`{"id":"`+webhookID+`","token":"`+m+`"}`, plainToken),
		hidden("token field in JSON with spaces",
			`"token": "`+m+`"`, plainToken),
		hidden("Token field printed by %+v",
			"{ID:"+webhookID+" Name:Tzurot Token:"+m+" ApplicationID:"+appID+"}", plainToken),
		hidden("interaction_token field",
			`{"interaction_token":"`+m+`"}`, plainToken),
		hidden("InteractionToken field printed by %+v",
			"{ChannelID:900000000000000001 InteractionToken:"+m+"}", plainToken),
		hidden("token query parameter",
			"/callback?token="+m+"&x=1", plainToken),

		// Bot tokens.
		hidden("bot token in an Authorization header of no known shape",
			"map[Authorization:[Bot "+m+"]]", "not-a-shaped-token"),
		hidden("bot token by its shape",
			"Authorization: Bot "+m, discordToken),
	}
	testRedacts(t, tests)
}

func TestStringKeepsDiscordText(t *testing.T) {
	tests := []keptCase{
		{"route templates", "POST /webhooks/{webhook_id}/{webhook_token} and /interactions/{interaction_id}/{interaction_token}/callback"},
		{"a webhook path with no token", "GET /api/v9/webhooks/" + webhookID},
		{"a channel's webhooks", "GET /api/v9/channels/900000000000000001/webhooks"},
		{"webhooks in prose", "webhooks/interactions are handled elsewhere"},
		{"a hex digest", strings.Repeat("0123456789abcdef", 4)},
		{"a 68-character identifier of one case", strings.Repeat("generate_reply_", 5)[:68]},
		{"a 69-character base64url run", webhookToken + "A"},
		{"token counts", `"prompt_tokens":12,"completion_tokens":7, max_tokens=500 tokens=1234`},
		{"token in prose", "the interaction token expired; token: missing"},
		{"an empty token field", `{"token":"","id":"` + webhookID + `"}`},
	}
	testKeeps(t, tests)
}

// webhookErr is what http.Client.Do returns when Discord drops the
// connection on a webhook POST.
func webhookErr(inner error) *url.Error {
	return &url.Error{Op: "Post", URL: "https://discord.com/api/v9/webhooks/" + webhookID + "/" + webhookToken + "?wait=true", Err: inner}
}

// chain is every error errors.Unwrap reaches from err, err included: what
// Temporal's failure converter records, one failure per cause.
func chain(err error) []error {
	var out []error
	for ; err != nil; err = errors.Unwrap(err) {
		out = append(out, err)
	}
	return out
}

func TestErrorMasksAURLError(t *testing.T) {
	err := Error(webhookErr(io.EOF))
	ue, ok := err.(*url.Error)
	if !ok {
		t.Fatalf("Error returned %T, want a *url.Error", err)
	}
	want := `Post "https://discord.com/api/v9/webhooks/` + webhookID + `/[REDACTED]?wait=true": EOF`
	if ue.Error() != want {
		t.Errorf("Error() = %q, want %q", ue.Error(), want)
	}
	if !errors.Is(err, io.EOF) {
		t.Error("the masked error no longer wraps io.EOF")
	}
	timeout := Error(webhookErr(context.DeadlineExceeded))
	if ue, ok := timeout.(*url.Error); !ok || !ue.Timeout() || !errors.Is(timeout, context.DeadlineExceeded) {
		t.Errorf("a timeout is no longer one: %#v", timeout)
	}
}

func TestErrorMasksEveryCauseOfAWrappedError(t *testing.T) {
	wrapped := fmt.Errorf("discord post as personality: %w", webhookErr(io.ErrUnexpectedEOF))
	err := Error(wrapped)
	causes := chain(err)
	if len(causes) != 3 {
		t.Fatalf("chain of %d errors, want 3 (wrapper, *url.Error, io.ErrUnexpectedEOF): %v", len(causes), causes)
	}
	for _, c := range causes {
		if strings.Contains(c.Error(), webhookToken) {
			t.Errorf("%T in the chain holds the token: %q", c, c.Error())
		}
	}
	if !strings.Contains(err.Error(), "discord post as personality: Post \"https://discord.com/api/v9/webhooks/"+webhookID+"/[REDACTED]") {
		t.Errorf("message lost its context: %q", err.Error())
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("errors.As/Is no longer find the clean causes")
	}
}

func TestErrorMasksJoinedErrors(t *testing.T) {
	err := Error(errors.Join(errors.New("first"), webhookErr(io.EOF)))
	if strings.Contains(err.Error(), webhookToken) {
		t.Errorf("joined error holds the token: %q", err.Error())
	}
	var ue *url.Error
	if !errors.As(err, &ue) || strings.Contains(ue.URL, webhookToken) {
		t.Errorf("joined causes not masked: %v", ue)
	}
}

type restError struct{ status int }

func (e *restError) Error() string {
	return fmt.Sprintf("HTTP %d, {\"message\": \"Unknown Webhook\"}", e.status)
}

func TestErrorKeepsCleanErrorsAsTheyAre(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	re := &restError{404}
	if got := Error(re); got != error(re) {
		t.Errorf("a clean error was replaced by %#v", got)
	}
	wrapped := fmt.Errorf("discord list webhooks: %w", re)
	if got := Error(wrapped); got != wrapped {
		t.Errorf("a clean chain was replaced by %#v", got)
	}
	clean := &url.Error{Op: "Get", URL: "https://discord.com/api/v9/channels/900000000000000001/webhooks", Err: io.EOF}
	if got := Error(clean); got != error(clean) {
		t.Errorf("a clean *url.Error was replaced by %#v", got)
	}
}

func TestHandlerMasksDiscordURLsInErrors(t *testing.T) {
	out := logJSON(t, func(l *slog.Logger) {
		l.Warn("Activity error.", "Error", fmt.Errorf("discord post as personality: %w", webhookErr(io.EOF)),
			"interaction", "https://discord.com/api/v9/interactions/"+interID+"/"+interactionToken+"/callback")
	})
	for _, tok := range []string{webhookToken, interactionToken} {
		if strings.Contains(out, tok) {
			t.Errorf("log line holds a token: %s", out)
		}
	}
	if !strings.Contains(out, "webhooks/"+webhookID+"/[REDACTED]") {
		t.Errorf("log line lost the masked URL: %s", out)
	}
}

// discordgo's own structs, printed or serialised whole as a careless log
// line would: the token must not survive any form.
func TestStringRedactsDiscordgoStructs(t *testing.T) {
	hook := &discordgo.Webhook{ID: webhookID, Type: discordgo.WebhookTypeIncoming, ChannelID: "900000000000000001",
		Name: "Tzurot", Token: webhookToken, ApplicationID: appID}
	in := &discordgo.Interaction{ID: interID, AppID: appID, Type: discordgo.InteractionApplicationCommand,
		ChannelID: "900000000000000001", Token: interactionToken}
	hookJSON, _ := json.Marshal(hook)
	inJSON, _ := json.Marshal(in)
	forms := map[string]string{
		"webhook %v":       fmt.Sprintf("%v", hook),
		"webhook %+v":      fmt.Sprintf("%+v", hook),
		"webhook JSON":     string(hookJSON),
		"interaction %v":   fmt.Sprintf("%v", in),
		"interaction %+v":  fmt.Sprintf("%+v", in),
		"interaction JSON": string(inJSON),
	}
	for name, text := range forms {
		got := String(text)
		for _, tok := range []string{webhookToken, interactionToken} {
			if strings.Contains(got, tok) {
				t.Errorf("%s keeps a token: %s", name, got)
			}
		}
		if !strings.Contains(got, Mask) || !strings.Contains(got, appID) {
			t.Errorf("%s: nothing masked, or the ids lost with it: %s", name, got)
		}
	}
}
