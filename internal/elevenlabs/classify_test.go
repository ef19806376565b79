package elevenlabs

import (
	"context"
	"net/http/httptest"
	"testing"

	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
)

// meaning is what each identifier ElevenLabs documents or sends means to
// tzurot, written out here by kind rather than read from the table under test.
var meaning = byKind(map[Kind][]string{
	KindInvalidKey: {"invalid_api_key", "missing_api_key", "needs_authorization",
		"invalid_authorization_header", "sign_in_required"},
	KindMissingPermission: {"missing_permissions", "insufficient_permissions", "workspace_access_denied"},
	KindQuotaExceeded:     {"quota_exceeded", "insufficient_credits"},
	KindAccountBlocked:    {"detected_unusual_activity", "payment_issue"},
	KindPlanRestricted: {"paid_plan_required", "free_users_not_allowed", "subscription_required",
		"feature_not_available", "voice_access_denied", "model_access_denied", "voice_limit_reached"},
	KindRateLimited: {"too_many_concurrent_requests", "concurrent_limit_exceeded", "rate_limit_exceeded", "system_busy"},
	KindBadRequest: {"voice_not_found", "model_not_found", "workspace_not_found", "invalid_voice_id",
		"unsupported_model", "text_too_long", "max_character_limit_exceeded", "text_too_short", "invalid_text",
		"empty_text", "invalid_parameters", "missing_required_field", "invalid_voice_settings",
		"invalid_output_format", "malformed_json", "invalid_content_type", "request_too_large", "validation_error"},
	KindTransient: {"internal_server_error", "internal_error", "service_unavailable", "maintenance"},
}, map[Kind][]string{ // generic: they decide only alone
	KindInvalidKey:     {"unauthorized"},
	KindPlanRestricted: {"payment_required"},
	KindAccountBlocked: {"forbidden"},
	KindBadRequest:     {"bad_request"},
})

// byKind turns lists of identifiers by kind into each identifier's kind.
func byKind(lists ...map[Kind][]string) map[string]Kind {
	out := map[string]Kind{}
	for _, l := range lists {
		for k, ids := range l {
			for _, id := range ids {
				out[id] = k
			}
		}
	}
	return out
}

// Every identifier is classified on its meaning, whichever field carries it
// and whatever HTTP status it came with; and every identifier the client
// knows is in this test.
func TestEveryIdentifierIsClassifiedOnItsMeaning(t *testing.T) {
	for id := range identifiers {
		if _, ok := meaning[id]; !ok {
			t.Errorf("%s is classified but not tested", id)
		}
	}
	for id := range genericIdentifiers {
		if _, ok := meaning[id]; !ok {
			t.Errorf("%s is classified but not tested", id)
		}
	}
	for id, want := range meaning {
		for _, status := range []int{400, 401, 402, 403, 404, 429, 500} {
			if k, code := classify(status, id, ""); k != want || code != id {
				t.Errorf("status %q with HTTP %d: %s (%q), want %s", id, status, k, code, want)
			}
			if k, _ := classify(status, "", id); k != want {
				t.Errorf("code %q with HTTP %d: %s, want %s", id, status, k, want)
			}
		}
	}
}

func TestTheMoreSpecificIdentifierDecides(t *testing.T) {
	cases := []struct {
		name         string
		http         int
		status, code string
		kind         Kind
		decidedBy    string
	}{
		{"live key error: code unauthorized, status invalid_api_key", 401, "invalid_api_key", "unauthorized", KindInvalidKey, "invalid_api_key"},
		{"live scoped key: code unauthorized, status missing_permissions", 401, "missing_permissions", "unauthorized", KindMissingPermission, "missing_permissions"},
		{"live free-plan library voice: status payment_required, code paid_plan_required", 402, "payment_required", "paid_plan_required", KindPlanRestricted, "paid_plan_required"},
		{"payment_issue in the newer shape", 401, "payment_issue", "payment_issue", KindAccountBlocked, "payment_issue"},
		{"a 401 reason tzurot does not know is not a bad key", 401, "some_new_reason", "", KindAccountBlocked, "some_new_reason"},
		{"nor with code unauthorized beside it", 401, "some_new_reason", "unauthorized", KindAccountBlocked, "some_new_reason"},
		{"a 403 reason tzurot does not know", 403, "some_new_reason", "", KindAccountBlocked, "some_new_reason"},
		{"a 402 reason tzurot does not know keeps the key", 402, "some_new_reason", "", KindPlanRestricted, "some_new_reason"},
		{"a 429 reason tzurot does not know", 429, "some_new_reason", "", KindRateLimited, "some_new_reason"},
		{"a 400 reason tzurot does not know", 400, "some_new_reason", "", KindBadRequest, "some_new_reason"},
		{"a 503 reason tzurot does not know", 503, "some_new_reason", "", KindTransient, "some_new_reason"},
		{"a 401 naming nothing is a bad key", 401, "", "", KindInvalidKey, ""},
		{"a 402 naming nothing", 402, "", "", KindPlanRestricted, ""},
		{"a 403 naming nothing", 403, "", "", KindAccountBlocked, ""},
		{"quota as 429", 429, "quota_exceeded", "", KindQuotaExceeded, "quota_exceeded"},
	}
	for _, c := range cases {
		if k, id := classify(c.http, c.status, c.code); k != c.kind || id != c.decidedBy {
			t.Errorf("%s: %s by %q, want %s by %q", c.name, k, id, c.kind, c.decidedBy)
		}
	}
}

// The client, against the stand-in answering each documented error in
// ElevenLabs' own shape, classifies it on its meaning.
func TestDocumentedErrorsFromTheStandIn(t *testing.T) {
	fake := fakeelevenlabs.New(fakeelevenlabs.Options{})
	fake.AddKey(key, fakeelevenlabs.Key{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := New(srv.URL, nil)
	for id, want := range meaning {
		switch id {
		case "unauthorized", "payment_required", "validation_error", "internal_error", "service_unavailable":
			continue // not a status the stand-in sends on its own
		}
		fake.Script(key, fakeelevenlabs.Fail(0, id))
		_, err := c.TextToSpeech(context.Background(), key, SpeechRequest{VoiceID: "21m00Tcm4TlvDq8ikWAM", Text: "hi"})
		e, ok := AsError(err)
		if !ok || e.Kind != want {
			t.Errorf("%s: %v, want %s", id, err, want)
		}
	}
	// A key the stand-in blocks still passes the key check: ElevenLabs
	// suspends its free-tier use, not the key.
	fake.AddKey("sk_blocked_0000000000000000000000000000000000000000", fakeelevenlabs.Key{Blocked: "detected_unusual_activity"})
	if _, err := c.CheckKey(context.Background(), "sk_blocked_0000000000000000000000000000000000000000"); err != nil {
		t.Errorf("blocked key check: %v", err)
	}
	_, err := c.TextToSpeech(context.Background(), "sk_blocked_0000000000000000000000000000000000000000", SpeechRequest{VoiceID: "21m00Tcm4TlvDq8ikWAM", Text: "hi"})
	if e, ok := AsError(err); !ok || e.Kind != KindAccountBlocked || e.Code != "detected_unusual_activity" || e.Status != 401 {
		t.Errorf("blocked key speaking: %v", err)
	}
}
