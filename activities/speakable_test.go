package activities_test

import (
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
)

func TestSpeakableText(t *testing.T) {
	cases := map[string]string{
		"plain":                               "plain",
		"**bold** _it_ ~~gone~~ `code` ||s||": "bold it gone code s",
		"hi <@123> in <#456> <:cat:789> <t:1700000000:R>": "hi in",
		"```go\nfmt.Println()\n``` after":                 "after",
		"> quoted\n# Title":                               "quoted\nTitle",
	}
	for in, want := range cases {
		if got := activities.SpeakableText(in, 100); got != want {
			t.Errorf("SpeakableText(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("One sentence here. ", 20)
	if got := activities.SpeakableText(long, 50); got != "One sentence here. One sentence here." {
		t.Errorf("cut = %q, want whole sentences", got)
	}
}
