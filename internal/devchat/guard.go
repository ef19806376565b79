package devchat

import (
	"context"
	"strings"

	"github.com/tzurot/tzurot/internal/redact"
)

// looksLikeKey reports whether text holds something shaped like an API key:
// a shape internal/redact masks in logs (OpenRouter's sk-or-v1-…,
// ElevenLabs' sk_…, other sk- keys, JWTs, Discord tokens), or a long token
// of letters and digits mixed the way generated keys are (ElevenLabs'
// legacy 32-hex keys; the offline stand-ins take any such key).
func looksLikeKey(text string) bool {
	if redact.String(text) != text {
		return true
	}
	for _, w := range strings.Fields(text) {
		if keyShaped(strings.Trim(w, `"'.,;:!?()[]{}<>`)) {
			return true
		}
	}
	return false
}

// keyNotPosted is the chat's refusal of a message that looks like a key
// (looksLikeKey), worded for where it would have gone: a channel, where
// everyone sees it, or the DM with Tzurot, where it would be kept in the
// conversation and sent to the personality's model.
func keyNotPosted(dm bool) string {
	where := "everyone in the channel would see it"
	if dm {
		where = "in this DM it would be kept in your conversation with Tzurot and sent to the personality's model"
	}
	return "Not posted: that looks like an API key, and " + where + ". Store a key with /wallet set, which asks for it in a private form."
}

// keyShaped: 20 or more of [A-Za-z0-9_-] that switch between letters and
// digits at least four times, which words, names and snowflake ids do not.
func keyShaped(w string) bool {
	if len(w) < 20 {
		return false
	}
	switches, prev := 0, byte(0) // 'a' letter, '0' digit
	for i := 0; i < len(w); i++ {
		var class byte
		switch ch := w[i]; {
		case ch >= '0' && ch <= '9':
			class = '0'
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z':
			class = 'a'
		case ch == '-' || ch == '_':
			continue
		default:
			return false
		}
		if prev != 0 && class != prev {
			switches++
		}
		prev = class
	}
	return switches >= 4
}

// demoCommand runs "!revoke PROVIDER", the offline demo's own command: it
// acts on a stand-in, not on Discord.
func (c *Chat) demoCommand(ctx context.Context, line string) {
	words := strings.Fields(strings.ToLower(line))
	switch {
	case len(words) != 2 || words[1] != "openrouter":
		c.println("Write !revoke openrouter: the OpenRouter stand-in then refuses your stored key, as if you had deleted it on openrouter.ai.")
	case c.opts.Revoke == nil:
		c.println("!revoke works only with the offline OpenRouter stand-in; revoke a real key at https://openrouter.ai/keys.")
	default:
		msg, err := c.opts.Revoke(ctx, words[1])
		if err != nil {
			c.println("Could not revoke the key: " + err.Error())
			return
		}
		c.println(msg)
	}
}
