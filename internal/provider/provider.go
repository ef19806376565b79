// Package provider is the one table of the services users bring their own
// keys for (OpenRouter, ElevenLabs): the id stored with a key, the names
// users see, the shape a key must have before anything is sent anywhere, and
// the endpoint that proves a key works. Classifying a provider's errors
// stays with its client (internal/openrouter, internal/elevenlabs); which
// error kind means "the key is refused" is named here so the table says it.
package provider

import (
	"fmt"
	"slices"
	"strings"
)

// Provider ids, as stored in user_api_keys.provider and usage_logs.provider
// and given as /wallet's provider option.
const (
	OpenRouter = "openrouter"
	ElevenLabs = "elevenlabs"
)

// The requests that check a key (Provider.CheckPath), for the clients.
const (
	// OpenRouterCheckPath is GET https://openrouter.ai/api/v1/key
	// (https://openrouter.ai/docs/api-reference/api-keys/get-current-key).
	OpenRouterCheckPath = "/key"
	// ElevenLabsCheckPath is GET https://api.elevenlabs.io/v1/user
	// (https://elevenlabs.io/docs/api-reference/user/get).
	ElevenLabsCheckPath = "/v1/user"
)

// Provider is everything the bot, the workflows and the activities say about
// one service whose keys users store.
type Provider struct {
	// ID is the stored provider id (OpenRouter, ElevenLabs).
	ID string
	// Name is how users see it: "OpenRouter".
	Name string
	// Choice is /wallet's label for it: "ElevenLabs (voices)".
	Choice string
	// WalletOption is what /wallet commands need added to name it: "" for
	// the default provider, " provider:elevenlabs" otherwise.
	WalletOption string
	// KeysURL is where a user creates a key and sets its permissions and
	// limits.
	KeysURL string
	// BillingURL is where a user adds credits or changes their plan.
	BillingURL string
	// FormTitle, FormLabel and FormPlaceholder word /wallet set's key form.
	FormTitle, FormLabel, FormPlaceholder string
	// MinKeyLen is the fewest characters a key can have and MaxKeyLen the
	// most: the form refuses others, CheckShape too where KeyChars is set,
	// and its refusal states them, so the rule is said one way everywhere.
	MinKeyLen, MaxKeyLen int
	// KeyPrefix, when set, begins every key (OpenRouter's "sk-or-").
	KeyPrefix string
	// KeyChars, when set, are the only characters a key may hold.
	KeyChars string
	// CheckPath is the GET, relative to the provider client's base URL,
	// that authenticates a key without spending anything; the client sends
	// it (CheckKey). A public endpoint (OpenRouter's model list) proves
	// nothing about a key.
	CheckPath string
	// RefusedKind is the error kind of the provider's client that means the
	// key itself is refused (internal/openrouter.KindInvalidKey,
	// internal/elevenlabs.KindInvalidKey): the key is switched off on it.
	RefusedKind string
	// Checked is what ValidateAPIKey tells the user after /wallet set, per
	// outcome of the check: only a key that works is saved.
	Checked CheckedWords
	// Retested is what it tells the user after /wallet test, which checks
	// the key already stored: one that works is switched on, any other
	// outcome leaves it stored as it was (switched off, if it was).
	Retested CheckedWords
}

// CheckedWords are the one-line answers to /wallet set or /wallet test,
// one per outcome of the key check.
type CheckedWords struct {
	Stored, Invalid, NoCredits, RateLimited, Unavailable string
}

// tokenChars are the characters of ElevenLabs keys: sk_ and hex, or the
// legacy 32 hex characters; letters, digits, _ and - cover both.
const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

// table is every provider, in the order /wallet lists them; the first is the
// default when a command names none. Nothing changes it: All hands out copies.
var table = [...]Provider{
	{
		ID: OpenRouter, Name: "OpenRouter", Choice: "OpenRouter",
		KeysURL: "https://openrouter.ai/keys", BillingURL: "https://openrouter.ai/credits",
		FormTitle: "Your OpenRouter API key", FormLabel: "API key (starts with sk-or-v1-)", FormPlaceholder: "sk-or-v1-…",
		MinKeyLen: 20, MaxKeyLen: 200, KeyPrefix: "sk-or-",
		CheckPath: OpenRouterCheckPath, RefusedKind: "invalid_key",
		Checked: CheckedWords{
			Stored:      "Your OpenRouter key works and is saved. Your replies now use it.",
			Invalid:     "OpenRouter did not accept that key, so nothing was saved. Copy it again from https://openrouter.ai/keys and run /wallet set.",
			NoCredits:   "That key works but has no credits left, so nothing was saved. Add credits at https://openrouter.ai/credits, then run /wallet set again.",
			RateLimited: "OpenRouter is rate-limiting that key right now, so nothing was saved. Wait a minute and run /wallet set again.",
			Unavailable: "OpenRouter could not be reached to check your key, so nothing was saved. Try /wallet set again in a few minutes.",
		},
		Retested: CheckedWords{
			Stored:      "Your stored OpenRouter key works and is switched on. Your replies use it.",
			Invalid:     "OpenRouter still refuses your stored key, so replies to you cannot use it; it stays stored, unchanged. Check it at https://openrouter.ai/keys, then run /wallet test again, or store another with /wallet set.",
			NoCredits:   "Your stored OpenRouter key works but has no credits left; it stays stored, unchanged. Add credits at https://openrouter.ai/credits, then run /wallet test again.",
			RateLimited: "OpenRouter is rate-limiting your stored key right now, so it could not be checked; it stays stored, unchanged. Wait a minute and run /wallet test again.",
			Unavailable: "OpenRouter could not be reached to check your stored key; it stays stored, unchanged. Try /wallet test again in a few minutes.",
		},
	},
	{
		ID: ElevenLabs, Name: "ElevenLabs", Choice: "ElevenLabs (voices)", WalletOption: " provider:elevenlabs",
		KeysURL: "https://elevenlabs.io/app/settings/api-keys", BillingURL: "https://elevenlabs.io/app/subscription",
		FormTitle: "Your ElevenLabs API key", FormLabel: "API key (from elevenlabs.io, API keys)", FormPlaceholder: "sk_…",
		MinKeyLen: 20, MaxKeyLen: 200, KeyChars: tokenChars,
		CheckPath: ElevenLabsCheckPath, RefusedKind: "invalid_key",
		Checked: CheckedWords{
			Stored:      "Your ElevenLabs key works and is saved. Voiced personalities now speak to you with it.",
			Invalid:     "ElevenLabs did not accept that key, so nothing was saved. Copy it again from https://elevenlabs.io/app/settings/api-keys and run /wallet set provider:elevenlabs.",
			NoCredits:   "That key works but has no characters left this month, so nothing was saved. Add credits at https://elevenlabs.io/app/subscription, then run /wallet set provider:elevenlabs again.",
			RateLimited: "ElevenLabs is busy or rate-limiting that key right now, so nothing was saved. Wait a minute and run /wallet set provider:elevenlabs again.",
			Unavailable: "ElevenLabs could not be reached to check your key, so nothing was saved. Try /wallet set provider:elevenlabs again in a few minutes.",
		},
		Retested: CheckedWords{
			Stored:      "Your stored ElevenLabs key works and is switched on. Voiced personalities speak to you with it.",
			Invalid:     "ElevenLabs still refuses your stored key, so voiced personalities cannot use it; it stays stored, unchanged. Check it at https://elevenlabs.io/app/settings/api-keys, then run /wallet test provider:elevenlabs again, or store another with /wallet set provider:elevenlabs.",
			NoCredits:   "Your stored ElevenLabs key works but has no characters left this month; it stays stored, unchanged. Add credits at https://elevenlabs.io/app/subscription, then run /wallet test provider:elevenlabs again.",
			RateLimited: "ElevenLabs is busy or rate-limiting your stored key right now, so it could not be checked; it stays stored, unchanged. Wait a minute and run /wallet test provider:elevenlabs again.",
			Unavailable: "ElevenLabs could not be reached to check your stored key; it stays stored, unchanged. Try /wallet test provider:elevenlabs again in a few minutes.",
		},
	},
}

// FreeModel is OpenRouter's router to its free models: it costs nobody
// anything, so a new personality answers with it until its owner chooses,
// and guests may use it under GUEST_MODE=free.
const FreeModel = "openrouter/free"

// All is every provider, in the order /wallet lists them.
func All() []Provider { return slices.Clone(table[:]) }

// Default is the provider a command means when it names none: OpenRouter.
func Default() Provider { return table[0] }

// Get is the provider with this id; ok is false for any other id.
func Get(id string) (p Provider, ok bool) {
	for _, p := range table {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}

// NameOf is the user-facing name of the provider id, the id itself when it is
// not in the table.
func NameOf(id string) string {
	if p, ok := Get(id); ok {
		return p.Name
	}
	return id
}

// Supported says, in one line, which providers keys can be stored for.
func Supported() string {
	names := make([]string, len(table))
	for i, p := range table {
		names[i] = p.Name
	}
	return "Keys can be stored for " + strings.Join(names, " and ") + " only."
}

// CheckShape says, in one line fit for the user, why key cannot be one of
// p's keys, "" when it can: another provider's key pasted (by its prefix),
// too short, the wrong characters. Nothing is sent anywhere to decide it.
func (p Provider) CheckShape(key string) string {
	for _, o := range table {
		if o.ID != p.ID && o.KeyPrefix != "" && strings.HasPrefix(key, o.KeyPrefix) {
			return fmt.Sprintf("That is an %[1]s key, not an %[2]s one; nothing was saved. For %[1]s run /wallet set provider:%[3]s.", o.Name, p.Name, o.ID)
		}
	}
	if p.KeyPrefix != "" && !strings.HasPrefix(key, p.KeyPrefix) {
		return fmt.Sprintf("That does not look like an %s key (they start with %s); nothing was saved. Copy it from %s and run /wallet set%s again.",
			p.Name, strings.TrimSuffix(p.FormPlaceholder, "…"), p.KeysURL, p.WalletOption)
	}
	if p.KeyChars != "" && (len(key) < p.MinKeyLen || len(key) > p.MaxKeyLen || strings.Trim(key, p.KeyChars) != "") {
		return fmt.Sprintf("That does not look like an %s key (%d to %d letters, digits, _ and -, like %s); nothing was saved. Copy it from %s and run /wallet set%s again.",
			p.Name, p.MinKeyLen, p.MaxKeyLen, p.FormPlaceholder, p.KeysURL, p.WalletOption)
	}
	return ""
}
