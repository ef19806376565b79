package devrun

import (
	"strings"
	"testing"
)

// The greeting asks for a key only while none is stored, and mentions
// building the Temporal CLI only when it is about to be built.
func TestBannerSaysOnlyWhatIsTrue(t *testing.T) {
	if b := banner("@demo hello", true, false); !strings.Contains(b, "store your API key first") || !strings.Contains(b, "!revoke openrouter") {
		t.Errorf("no key stored, stand-in: %s", b)
	}
	if b := banner("@demo hello", true, true); strings.Contains(b, "store your API key first") {
		t.Errorf("a key is stored, yet: %s", b)
	}
	if b := banner("@demo hello", false, false); strings.Contains(b, "!revoke") || !strings.Contains(b, "https://openrouter.ai/keys") {
		t.Errorf("real OpenRouter: %s", b)
	}
	if l := startLine(false); strings.Contains(l, "Temporal CLI") {
		t.Errorf("the CLI is built, yet: %s", l)
	}
	if l := startLine(true); !strings.Contains(l, "Temporal CLI is built") {
		t.Errorf("the CLI is missing, yet: %s", l)
	}
}
