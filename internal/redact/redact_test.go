package redact

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Fake credentials with the real shapes. They are assembled at run time so
// that secret scanners (GitHub push protection and the like) do not flag this
// file, and the repeated FAKE/fake filler makes them obviously not real.
var (
	openRouterKey    = "sk-or-v1-" + strings.Repeat("0123456789abcdef", 4)
	openAIKey        = "sk-" + strings.Repeat("FAKEfake0", 5) + "FAK"
	openAIProjectKey = "sk-proj-" + strings.Repeat("FAKE_fake-01", 12)
	anthropicKey     = "sk-ant-api03-" + strings.Repeat("FAKE-fake_", 9) + "AA"
	elevenLabsKey    = "sk_" + strings.Repeat("0123abcd", 6)
	elevenLabsLegacy = strings.Repeat("0f", 16)
	googleKey        = "AIza" + strings.Repeat("FAKE-fake_", 4)[:35]
	discordToken     = base64.RawURLEncoding.EncodeToString([]byte("123456789012345678")) +
		".GaBcDe." + strings.Repeat("FAKEfake", 4)
	jwt = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"fake"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("fake-signature"))
	bearerToken = "fake-bearer-token-0123456789"
)

// allFakes lists every fake so tests can assert none of them survives.
func allFakes() []string {
	return []string{
		openRouterKey, openAIKey, openAIProjectKey, anthropicKey, elevenLabsKey,
		elevenLabsLegacy, googleKey, discordToken, jwt, bearerToken,
	}
}

// redactCase is an input to String and what it must come out as.
type redactCase struct{ name, in, want string }

// testRedacts checks String turns each in into its want, and that
// redacting already-redacted text (e.g. an error logged twice) changes
// nothing further.
func testRedacts(t *testing.T, tests []redactCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Errorf("second pass changed %q to %q", got, again)
			}
		})
	}
}

// keptCase is an input String must leave as it is.
type keptCase struct{ name, in string }

func testKeeps(t *testing.T, tests []keptCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.in {
				t.Errorf("String(%q) = %q, want it unchanged", tt.in, got)
			}
		})
	}
}

func TestStringRedacts(t *testing.T) {
	tests := []redactCase{
		// Provider keys by prefix.
		{"openrouter key in prose",
			"auth failed for " + openRouterKey + " (401)",
			"auth failed for [REDACTED] (401)"},
		{"openrouter key in JSON",
			`{"api":"` + openRouterKey + `"}`,
			`{"api":"[REDACTED]"}`},
		{"openai legacy key",
			"using " + openAIKey,
			"using [REDACTED]"},
		{"openai project key with dashes and underscores",
			"key=" + openAIProjectKey + ".",
			"key=[REDACTED]."},
		{"anthropic key",
			"ANTHROPIC=" + anthropicKey,
			"ANTHROPIC=[REDACTED]"},
		{"elevenlabs sk_ key",
			"voice client " + elevenLabsKey + " ready",
			"voice client [REDACTED] ready"},
		{"sk key after an underscore-joined env name",
			"OPENAI_API_KEY=" + openAIKey,
			"OPENAI_API_KEY=[REDACTED]"},
		{"google key in a query string",
			"GET https://example.test/v1?key=" + googleKey + "&alt=json",
			"GET https://example.test/v1?key=[REDACTED]&alt=json"},
		{"several keys in one string",
			openRouterKey + " and " + googleKey,
			"[REDACTED] and [REDACTED]"},

		// Tokens by shape.
		{"discord bot token",
			"login with " + discordToken,
			"login with [REDACTED]"},
		{"discord token in a Bot header",
			"Authorization: Bot " + discordToken,
			"Authorization: Bot [REDACTED]"},
		{"Bot scheme with a non-standard token",
			"Bot " + strings.Repeat("FAKEfake", 3) + ".abc.def",
			"Bot [REDACTED]"},
		{"jwt",
			"session " + jwt + " expired",
			"session [REDACTED] expired"},

		// Tokens by context.
		{"bearer header",
			"Authorization: Bearer " + bearerToken,
			"Authorization: Bearer [REDACTED]"},
		{"bearer is case-insensitive",
			"curl -H 'BEARER " + bearerToken + "'",
			"curl -H 'BEARER [REDACTED]'"},
		{"short bearer token is still masked inside an authorization header",
			"authorization: bearer fake1234",
			"authorization: bearer [REDACTED]"},
		{"basic auth header",
			"Authorization: Basic ZmFrZTpmYWtl==",
			"Authorization: Basic [REDACTED]"},
		{"xi-api-key header with an unprefixed key",
			"xi-api-key: " + elevenLabsLegacy,
			"xi-api-key: [REDACTED]"},
		{"x-api-key in JSON",
			`{"x-api-key":"` + elevenLabsLegacy + `"}`,
			`{"x-api-key":"[REDACTED]"}`},
		{"http.Header as printed by %v",
			"map[Authorization:[Bearer " + bearerToken + "] Xi-Api-Key:[" + elevenLabsLegacy + "]]",
			"map[Authorization:[Bearer [REDACTED]] Xi-Api-Key:[[REDACTED]]]"},
		{"api_key query parameter",
			"/v1/tts?api_key=" + elevenLabsLegacy + "&voice=a",
			"/v1/tts?api_key=[REDACTED]&voice=a"},
	}
	testRedacts(t, tests)
}

func TestStringKeepsOrdinaryText(t *testing.T) {
	tests := []keptCase{
		{"empty", ""},
		{"the mask itself", Mask},
		{"library name sk-learn", "install scikit-learn (sk-learn) first"},
		{"sk inside a word", "task-based routing with risk-free defaults"},
		{"sk_ inside a word", "desk_booking_system_for_the_whole_team"},
		{"sk- prefix too short", "sk-too-short-12345"},
		{"AIza prefix too short", "AIzaShort"},
		{"version numbers", "go1.26.8, v1.2.3, 10.0.0.1"},
		{"hostnames", "https://openrouter.ai/api/v1 and MTIz.example.com"},
		{"dotted base64-ish text of the wrong lengths", "MTIzNDU2.Nzg5.MDEy"},
		{"bearer in prose", "Bearer authentication is required; the bearer token expired"},
		{"Bot in prose", "Bot started in 3 guilds"},
		{"authorization in prose", "authorization: denied; Authorization header missing"},
		{"scheme with nothing after it", "Authorization: Bearer"},
		{"ordinary key=value", "model=openai/gpt-4o-mini tokens=1234"},
	}
	testKeeps(t, tests)
}
