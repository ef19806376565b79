package activities

import (
	"testing"
	"time"
)

// The first post waits for a sentence: a terminator counts only with white
// space or a line break after it (and after any closing quote or bracket),
// never inside a number, a version, a host name, an abbreviation before a
// lower-case word or an ellipsis that runs on.
func TestSentenceEnded(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"The answer is 3.5 percent of the", false},
		{"Update to v1.2 before you", false},
		{"See discord.com for the", false},
		{"Bring something, e.g. a lamp or a", false},
		{"Bring something, i.e. a lamp or a", false},
		{"Wait... what did you", false},
		{"Wait… what did you", false},
		{"Cost is $4.99 and the", false},
		{"It ended.", false},  // nothing after it yet
		{"It ended. ", false}, // the next word has not arrived
		{"It ended. Then", true},
		{"Did it end? Yes", true},
		{"It ended! Then", true},
		{"It ended... Then", true},
		{`He said "it ended." Then`, true},
		{"It ended (as planned!) and", true}, // "!" always ends one (STerm)
		{"(It ended!) Then", true},
		{"It ended.) Then", true},
		{"It ended.\nthen", true},
		{"First line\nsecond", true},
	} {
		if got := sentenceEnded(tc.text); got != tc.want {
			t.Errorf("sentenceEnded(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// ready posts a short text at its first sentence end, and not at a full stop
// inside a sentence; past FirstPostChars or FirstPostAfter it posts anyway.
func TestFirstPostWaitsForASentence(t *testing.T) {
	now := time.Now()
	w := &StreamWriter{begun: now}
	for _, tc := range []struct {
		text string
		at   time.Duration
		want bool
	}{
		{"Version 3.5 of the tool", 0, false},
		{"Version 3.5 of the tool is out. It", 0, true},
		{"Short. Then", 0, false}, // a sentence, but under 20 code points
		{"Look at discord.com for the", 0, false},
		{"Look at discord.com for the", FirstPostAfter, true},
	} {
		if got := w.ready(tc.text, now.Add(tc.at)); got != tc.want {
			t.Errorf("ready(%q, +%v) = %v, want %v", tc.text, tc.at, got, tc.want)
		}
	}
	long := ""
	for len(long) <= FirstPostChars {
		long += "word "
	}
	if !w.ready(long, now) {
		t.Errorf("ready of %d code points without a sentence end = false, want true", len(long))
	}
}
