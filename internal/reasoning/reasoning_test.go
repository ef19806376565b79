package reasoning

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name, in, visible, reasoning string
	}{
		{"no tags", "Hello there.", "Hello there.", ""},
		{"empty", "", "", ""},
		{"think block first", "<think>\nthe user greets me\n</think>\n\nHello!", "Hello!", "the user greets me"},
		{"thinking in the middle", "Hi. <thinking>plan</thinking> Bye.", "Hi.  Bye.", "plan"},
		{"several kinds", "<reasoning>a</reasoning>One<reflection>b</reflection>\n\n\n\nTwo", "One\n\nTwo", "a\n\nb"},
		{"upper case with attributes", `<THINK type="x">hmm</Think>Yes`, "Yes", "hmm"},
		{"fenced code keeps tags", "Use this:\n```xml\n<think>not mine</think>\n```\nDone", "Use this:\n```xml\n<think>not mine</think>\n```\nDone", ""},
		{"tilde fence keeps tags", "~~~\n<thinking>x</thinking>\n~~~", "~~~\n<thinking>x</thinking>\n~~~", ""},
		{"inline code keeps tags", "Wrap it in `<think>` and `</think>`.", "Wrap it in `<think>` and `</think>`.", ""},
		{"double backtick span", "Try ``<think>x</think>`` here", "Try ``<think>x</think>`` here", ""},
		{"unclosed: cut off while thinking", "Sure. <think>let me see, the answer", "Sure.", "let me see, the answer"},
		{"orphan close: opening omitted", "I should be brief.</think>Hello!", "Hello!", "I should be brief."},
		{"only reasoning", "<think>just thoughts</think>", "", "just thoughts"},
		{"other tags untouched", "<b>bold</b> <thinker>", "<b>bold</b> <thinker>", ""},
		{"mismatched close ignored until its own", "<think>a</thought>b</think>c", "c", "a</thought>b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, r := Split(tc.in)
			if v != tc.visible || r != tc.reasoning {
				t.Errorf("Split(%q)\n got  %q | %q\n want %q | %q", tc.in, v, r, tc.visible, tc.reasoning)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	if got := Join("", " a ", "", "b"); got != "a\n\nb" {
		t.Fatalf("Join = %q", got)
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"<think>a</think>b", "```\n<think>\n```", "`x` <thinking>y", "a</think>b", "``", "```"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, r := Split(s)
		v2, r2 := Split(s)
		if v != v2 || r != r2 {
			t.Fatal("Split is not deterministic")
		}
		if len(v) > len(s) {
			t.Fatalf("visible longer than input: %q -> %q", s, v)
		}
		if strings.TrimSpace(s) == "" && (v != "" || r != "") {
			t.Fatalf("blank input gave %q %q", v, r)
		}
	})
}
