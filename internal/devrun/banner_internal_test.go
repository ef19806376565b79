package devrun

import (
	"strings"
	"testing"
)

// The greeting asks for a key only while none is stored, and mentions
// building the Temporal CLI only when it is about to be built.
func TestBannerSaysOnlyWhatIsTrue(t *testing.T) {
	if b := banner("@demo hello", true, nil); !strings.Contains(b, "store your API key first") || !strings.Contains(b, "!revoke openrouter") {
		t.Errorf("no key stored, stand-in: %s", b)
	}
	if b := banner("@demo hello", true, map[string]bool{"openrouter": true}); strings.Contains(b, "store your API key first") || strings.Contains(b, "switched off") {
		t.Errorf("a key is stored, yet: %s", b)
	}
	if b := banner("@demo hello", false, nil); strings.Contains(b, "!revoke") || !strings.Contains(b, "https://openrouter.ai/keys") {
		t.Errorf("real OpenRouter: %s", b)
	}
	// A key a provider refused is stored but switched off: not "store your
	// key first", but that it was switched off and what fixes it; an
	// ElevenLabs key on does not make up for it.
	for _, keys := range []map[string]bool{{"openrouter": false}, {"openrouter": false, "elevenlabs": true}} {
		b := banner("@demo hello", true, keys)
		if strings.Contains(b, "store your API key first") || !strings.Contains(b, "OpenRouter key was switched off") ||
			!strings.Contains(b, "/wallet test") || !strings.Contains(b, "/wallet set") {
			t.Errorf("keys %v: %s", keys, b)
		}
		if keys["elevenlabs"] && !strings.Contains(b, "once your OpenRouter key works") {
			t.Errorf("an ElevenLabs key on, the OpenRouter one off: %s", b)
		}
	}
	if b := banner("@demo hello", true, map[string]bool{"openrouter": true, "elevenlabs": false}); !strings.Contains(b, "ElevenLabs key was switched off: /wallet test provider:elevenlabs") {
		t.Errorf("ElevenLabs key off: %s", b)
	}
	if l := startLine(false); strings.Contains(l, "Temporal CLI") {
		t.Errorf("the CLI is built, yet: %s", l)
	}
	if l := startLine(true); !strings.Contains(l, "Temporal CLI is built") {
		t.Errorf("the CLI is missing, yet: %s", l)
	}
}
