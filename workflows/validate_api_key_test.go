package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/keycrypt"
)

var sealed = keycrypt.Sealed{IV: "00112233445566778899aabb", Content: "abcd", Tag: "00112233445566778899aabbccddeeff"}

func TestValidateAPIKey(t *testing.T) {
	appErr := func(typ string) error { return temporal.NewNonRetryableApplicationError("provider said no", typ, nil) }
	cases := []struct {
		name      string
		checkErr  error
		wantStore bool
		want      string
	}{
		{"a working key is stored", nil, true, KeyStored},
		{"a rejected key is not stored", appErr(activities.ErrInvalidKey), false, KeyInvalid},
		{"a key without credits is not stored", appErr(activities.ErrNoCredits), false, KeyQuotaExceeded},
		{"rate limited after retries", temporal.NewApplicationError("429", activities.ErrRateLimited), false, KeyRateLimited},
		{"provider down after retries", temporal.NewApplicationError("503", activities.ErrUnavailable), false, KeyUnavailable},
		{"a long rate-limit wait is told at once", appErr(activities.ErrQuotaExhausted), false, KeyRateLimited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			checks := 0
			env.OnActivity(a.CheckKey, mock.Anything, activities.CheckKeyInput{Provider: "openrouter", SealedKey: sealed}).
				Return(func(_ context.Context, _ activities.CheckKeyInput) (activities.CheckKeyResult, error) {
					checks++
					return activities.CheckKeyResult{}, tc.checkErr
				})
			stored := false
			env.OnActivity(a.StoreKey, mock.Anything, activities.StoreKeyInput{DiscordUserID: "123456", Provider: "openrouter", SealedKey: sealed}).
				Return(func(_ context.Context, _ activities.StoreKeyInput) error { stored = true; return nil }).Maybe()

			env.ExecuteWorkflow(ValidateAPIKey, ValidateAPIKeyInput{DiscordUserID: "123456", Provider: "openrouter", SealedKey: sealed})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res ValidateAPIKeyResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want || res.Message == "" || stored != tc.wantStore {
				t.Fatalf("result %+v stored=%v; want outcome %s stored=%v", res, stored, tc.want, tc.wantStore)
			}
			// Retryable failures are retried before giving up; final ones are not.
			retryable := (tc.want == KeyRateLimited || tc.want == KeyUnavailable) && !strings.Contains(tc.name, "at once")
			if retryable && checks != 4 || !retryable && checks != 1 {
				t.Fatalf("CheckKey ran %d times (retryable=%v)", checks, retryable)
			}
		})
	}
}

func TestValidateAPIKeyRejectsMissingUser(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(ValidateAPIKey, ValidateAPIKeyInput{Provider: "openrouter", SealedKey: sealed})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("want an error for a missing discord_user_id")
	}
}

// A real ElevenLabs key whose account is blocked is stored (switched on) and
// the user told why it may not speak yet, never that the key is bad.
func TestValidateAPIKeyStoresARestrictedAccountsKey(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	const note = "ElevenLabs has paused free-tier use of that account (unusual activity detected)."
	env.OnActivity(a.CheckKey, mock.Anything, mock.Anything).Return(activities.CheckKeyResult{Note: note}, nil)
	stored := false
	env.OnActivity(a.StoreKey, mock.Anything, activities.StoreKeyInput{DiscordUserID: "123456", Provider: activities.ProviderElevenLabs, SealedKey: sealed}).
		Return(func(_ context.Context, _ activities.StoreKeyInput) error { stored = true; return nil })
	res := execute[ValidateAPIKeyResult](t, env, ValidateAPIKey, ValidateAPIKeyInput{DiscordUserID: "123456", Provider: activities.ProviderElevenLabs, SealedKey: sealed})
	if !stored || res.Outcome != KeyStored || res.Message != "Your ElevenLabs key is real and is saved, but "+note {
		t.Fatalf("result %+v, stored=%v", res, stored)
	}
}

// /wallet test (Retest) checks the key already stored: its answers say the
// key stays stored, never that nothing was saved, and to test it again.
func TestValidateAPIKeyRetestWords(t *testing.T) {
	appErr := func(typ string) error { return temporal.NewNonRetryableApplicationError("provider said no", typ, nil) }
	for _, tc := range []struct {
		checkErr error
		want     string
	}{
		{nil, "Your stored OpenRouter key works and is switched on."},
		{appErr(activities.ErrInvalidKey), "OpenRouter still refuses your stored key, so replies to you cannot use it; it stays stored, unchanged."},
		{appErr(activities.ErrNoCredits), "/wallet test again"},
	} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.OnActivity(a.CheckKey, mock.Anything, mock.Anything).Return(activities.CheckKeyResult{}, tc.checkErr)
		env.OnActivity(a.StoreKey, mock.Anything, mock.Anything).Return(nil).Maybe()
		res := execute[ValidateAPIKeyResult](t, env, ValidateAPIKey, ValidateAPIKeyInput{DiscordUserID: "123456", Provider: "openrouter", SealedKey: sealed, Retest: true})
		if !strings.Contains(res.Message, tc.want) || strings.Contains(res.Message, "nothing was saved") {
			t.Errorf("/wallet test, check error %v: %q, want %q", tc.checkErr, res.Message, tc.want)
		}
	}
}
