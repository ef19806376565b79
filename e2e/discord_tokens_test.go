//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// Discord drops the connection on the webhook POST of a reply. Go's client
// reports that as a *url.Error quoting the whole URL, the webhook's token
// in it; the retried activity then posts. The error reached the SDK's
// "Activity error." log line, the activity's recorded failure and the span
// of the call — each with the token masked, the rest kept for debugging.
func TestDroppedWebhookPostLeaksNoToken(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, RecordSpans: true}, "openrouter/free")
	// Posted whole by PostReply, whose failure is the activity's: a
	// streamed reply's failed post only stops its edits (logged, masked).
	s.Activities.StreamsReplies = func(*ent.Personality) bool { return false }
	s.Discord.DropNext("POST /webhooks/{webhook_id}/{webhook_token}")

	const requestID = "800000000000000021"
	res := reply(t, s, requestID)
	if res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %s, want the retry to post", res.Outcome)
	}
	msgs := s.Discord.Messages(channelID)
	if len(msgs) != 1 || msgs[0].WebhookID == "" {
		t.Fatalf("channel messages %+v, want one webhook post", msgs)
	}
	tokens, _ := s.Discord.Tokens()
	if len(tokens) != 1 {
		t.Fatalf("webhook tokens %v, want the channel's one", tokens)
	}
	masked := "/webhooks/" + msgs[0].WebhookID + "/[REDACTED]"

	// The error was there to leak, and each place kept it masked.
	if logs := s.Logs.String(); !strings.Contains(logs, "Activity error.") || !strings.Contains(logs, masked) {
		t.Errorf("the worker's log has no masked activity error for the dropped POST:\n%s", logs)
	}
	id := workflows.GenerateReplyID(requestID)
	if failures := s.Failures(t, id); !strings.Contains(failures, "discord post as personality: Post") || !strings.Contains(failures, masked) {
		t.Errorf("the history records no masked failure for the dropped POST:\n%s", failures)
	}
	spanMasked := false
	for _, sp := range s.Spans.GetSpans() {
		for _, kv := range sp.Attributes {
			spanMasked = spanMasked || kv.Key == "url.full" && strings.Contains(kv.Value.AsString(), masked)
		}
	}
	if !spanMasked {
		t.Error("no exported span of the webhook call with its URL masked")
	}
	s.AssertNoSecrets(t, []string{id}, userKey)
}
