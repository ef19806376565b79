//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// Interaction tokens ride in the URL of every interaction call: the
// callback, and the follow-up through the application's webhook. Discord
// drops the connection on each once: the bot's failed deferral is logged,
// ImagineImage's failed follow-up is logged and retried within the activity
// (the image is paid for; it is not bought again) — each with the token
// masked, in logs, history and spans alike.
func TestDroppedInteractionCallsLeakNoToken(t *testing.T) {
	w := newWorld(t, itest.Options{RecordSpans: true})
	seedPainter(t, w, true)

	w.Discord.DropNext("POST /interactions/{interaction_id}/{interaction_token}/callback")
	refused := w.slash(alice, "imagine", "", str("prompt", "a fox"), str("personality", "painter"))
	maskedCallback := "/interactions/" + refused.ID + "/[REDACTED]/callback"
	if logs := w.Logs.String(); !strings.Contains(logs, "interaction failed") || !strings.Contains(logs, maskedCallback) {
		t.Errorf("the bot's log has no masked error for the dropped deferral:\n%s", logs)
	}

	w.Discord.DropNext("POST /webhooks/{webhook_id}/{webhook_token}")
	ic := w.slash(alice, "imagine", "", str("prompt", "a fox in the snow"), str("personality", "painter"))
	testwait.Until(t, "the follow-up", func() bool { return len(w.Discord.FollowUps(ic.Token)) == 1 })
	id := workflows.ImagineImageID(ic.ID)
	ctx := context.Background()
	var res workflows.ImagineImageResult
	if err := w.Client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil || res.Outcome != workflows.ImaginePosted {
		t.Fatalf("ImagineImage: %+v, %v", res, err)
	}
	maskedFollowUp := "/webhooks/" + ic.AppID + "/[REDACTED]"
	if logs := w.Logs.String(); !strings.Contains(logs, maskedFollowUp) {
		t.Errorf("the worker's log has no masked error for the dropped follow-up:\n%s", logs)
	}
	if logs := w.Logs.String(); !strings.Contains(logs, "discord post the follow-up: Post") {
		t.Errorf("the worker's log does not say the follow-up failed:\n%s", logs)
	}
	if n := len(w.OpenRouter.Calls()); n != 1 {
		t.Errorf("%d provider calls, want 1: a failed upload never buys the image again", n)
	}
	spans := map[string]bool{}
	for _, sp := range w.Spans.GetSpans() {
		for _, kv := range sp.Attributes {
			if kv.Key == "url.full" {
				for _, m := range []string{maskedCallback, maskedFollowUp} {
					spans[m] = spans[m] || strings.Contains(kv.Value.AsString(), m)
				}
			}
		}
	}
	if !spans[maskedCallback] || !spans[maskedFollowUp] {
		t.Errorf("exported spans with masked URLs: %v, want the callback's and the follow-up's", spans)
	}
	_, tokens := w.Discord.Tokens()
	if len(tokens) != 2 {
		t.Fatalf("interaction tokens %d, want the two interactions'", len(tokens))
	}
	w.AssertNoSecretsAnywhere(t, 1, aliceKey)
}
