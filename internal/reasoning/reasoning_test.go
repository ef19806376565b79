package reasoning

import (
	"strings"
	"testing"
	"unicode/utf8"
)

type splitCase struct {
	name, in, visible, reasoning string
}

var splitCases = []splitCase{
	{"empty", "", "", ""},
	{"blank", " \n\t\n", "", ""},
	{"no tags", "Hello there.", "Hello there.", ""},
	{"no tags keeps own spacing", "a\n\n\n\nb", "a\n\n\n\nb", ""},
	{"think block first", "<think>\nthe user greets me\n</think>\n\nHello!", "Hello!", "the user greets me"},
	{"thinking in the middle", "Hi. <thinking>plan</thinking> Bye.", "Hi. Bye.", "plan"},
	{"block glued to words", "Hi<think>x</think>there", "Hithere", "x"},
	{"multiline block", "<think>\nstep 1\n\nstep 2\n</think>\nDone.", "Done.", "step 1\n\nstep 2"},
	{"several kinds", "<reasoning>a</reasoning>One<reflection>b</reflection>\n\n\n\nTwo<scratchpad>c</scratchpad>", "One\n\nTwo", "a\n\nb\n\nc"},
	{"every name", "<think>1</think><thinking>2</thinking><reasoning>3</reasoning><thought>4</thought><reflection>5</reflection><scratchpad>6</scratchpad><analysis>7</analysis>ok", "ok", "1\n\n2\n\n3\n\n4\n\n5\n\n6\n\n7"},
	{"upper case with attributes", `<THINK type="x">hmm</Think>Yes`, "Yes", "hmm"},
	{"attributes with quoted >", `<thinking note="a>b" level='2'>hmm</thinking >Yes`, "Yes", "hmm"},
	{"self-closing tag", "Yes<think/> no", "Yes no", ""},
	{"empty block", "<think></think>Yes", "Yes", ""},

	{"backtick fence keeps tags", "Use this:\n```xml\n<think>not mine</think>\n```\nDone", "Use this:\n```xml\n<think>not mine</think>\n```\nDone", ""},
	{"tilde fence keeps tags", "~~~\n<thinking>x</thinking>\n~~~", "~~~\n<thinking>x</thinking>\n~~~", ""},
	{"indented fence in a list", "- step\n  ```\n  <think>x</think>\n  ```\n- next", "- step\n  ```\n  <think>x</think>\n  ```\n- next", ""},
	{"tilde does not close backticks", "```\n~~~\n<think>x</think>\n```\n<think>y</think>z", "```\n~~~\n<think>x</think>\n```\nz", "y"},
	{"longer fence needs longer close", "````\n```\n<think>x</think>\n````\nok", "````\n```\n<think>x</think>\n````\nok", ""},
	{"unclosed fence runs to the end", "```\n<think>x</think>", "```\n<think>x</think>", ""},
	{"tags after a fence are stripped", "```go\nx := 1\n```\n<think>r</think>\nok", "```go\nx := 1\n```\nok", "r"},
	{"fence keeps blank lines", "<think>r</think>\n```py\nimport os\n\n\ndef f(): pass\n```", "```py\nimport os\n\n\ndef f(): pass\n```", "r"},
	{"one-line triple backticks are inline", "```<think>x</think>``` after", "```<think>x</think>``` after", ""},

	{"inline code keeps tags", "Wrap it in `<think>` and `</think>`.", "Wrap it in `<think>` and `</think>`.", ""},
	{"double backtick span", "Try ``<think>x</think>`` here", "Try ``<think>x</think>`` here", ""},
	{"double span holds a single backtick", "``a ` <think>b</think>`` c", "``a ` <think>b</think>`` c", ""},
	{"span closes only on an equal run", "``a`<think>b</think>", "``a`", "b"},
	{"stray backtick in reasoning", "<think>use a ` here</think>Answer: `x`", "Answer: `x`", "use a ` here"},
	{"stray backtick does not cross paragraphs", "it's ` odd\n\n<think>r</think>ok `x`", "it's ` odd\n\nok `x`", "r"},

	{"unclosed: cut off while thinking", "Sure. <think>let me see, the answer", "Sure.", "let me see, the answer"},
	{"unclosed after a closed block", "<think>a</think>B<think>c", "B", "a\n\nc"},
	{"orphan close: opening omitted", "I should be brief.</think>Hello!", "Hello!", "I should be brief."},
	{"orphan close with a block after", "r1\n</think>\n\nHi <think>r2</think> there", "Hi there", "r1\n\nr2"},
	{"orphan close inside code ignored", "See `</think>` here", "See `</think>` here", ""},
	{"stray close after a block is dropped", "<think>a</think>b</think>c", "bc", "a"},
	{"only reasoning", "<think>just thoughts</think>", "", "just thoughts"},

	{"nested-looking: first close wins", "<think>I use <think> tags</think> answer", "answer", "I use <think> tags"},
	{"other names inside a block", "<think>a</thought>b</think>c", "c", "a</thought>b"},
	{"other tags untouched", "<b>bold</b> <thinker> <thinking about it", "<b>bold</b> <thinker> <thinking about it", ""},
	{"split opening tag is no tag", "<think\n>x</think>y", "y", "<think\n>x"},
	{"less-than in prose", "1 < 2 and <think>r</think>ok", "1 < 2 and ok", "r"},

	{"whitespace collapse", "Hello\n\n<think>x</think>\n\n\nWorld", "Hello\n\nWorld", "x"},
	{"collapse across adjacent blocks", "A\n<think>x</think>\n\n<think>y</think>\n\n\n\nB", "A\n\nB", "x\n\ny"},
	{"single newline stays single", "A\n<think>x</think>B", "A\nB", "x"},
	{"block on its own line leaves no blank line", "A\n<think>x</think>\nB", "A\nB", "x"},
	{"blocks on own lines around a blank line", "A\n<think>x</think>\n\n<think>y</think>\nB", "A\n\nB", "x\n\ny"},
	{"blocks on one line with spaces", "A\n<think>x</think> <think>y</think>\nB", "A\nB", "x\n\ny"},
	{"indentation after a cut kept", "A\n<think>x</think>\n    B", "A\n    B", "x"},
	{"crlf around a cut", "A\r\n\r\n<think>x</think>\r\n\r\nB", "A\n\nB", "x"},
}

func TestSplit(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			v, r := Split(tc.in)
			if v != tc.visible || r != tc.reasoning {
				t.Errorf("Split(%q)\n got  %q | %q\n want %q | %q", tc.in, v, r, tc.visible, tc.reasoning)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	cases := []struct {
		name  string
		parts []string
		want  string
	}{
		{"none", nil, ""},
		{"all blank", []string{"", " \n"}, ""},
		{"one", []string{" a "}, "a"},
		{"skips blanks", []string{"", " a ", "", "b\n"}, "a\n\nb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Join(tc.parts...); got != tc.want {
				t.Errorf("Join(%q) = %q, want %q", tc.parts, got, tc.want)
			}
		})
	}
}

// FuzzSplit holds Split to properties that hold for any input: it is
// deterministic, it only ever removes (visible and reasoning together never
// outgrow the input), it never cuts a UTF-8 sequence apart, and text without
// a '<' has nothing to remove.
func FuzzSplit(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(tc.in)
	}
	for _, s := range []string{"``", "```", "~~~\n", "<", "</", "<think", "<think/", "\n\n<think/>\n\n", "é<think>ü</think>\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, r := Split(s)
		if v2, r2 := Split(s); v != v2 || r != r2 {
			t.Fatalf("Split(%q) is not deterministic", s)
		}
		if len(v)+len(r) > len(s) {
			t.Fatalf("Split(%q) grew the text: %q | %q", s, v, r)
		}
		if v != strings.TrimSpace(v) || r != strings.TrimSpace(r) {
			t.Fatalf("Split(%q) left surrounding whitespace: %q | %q", s, v, r)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(v) || !utf8.ValidString(r)) {
			t.Fatalf("Split(%q) broke UTF-8: %q | %q", s, v, r)
		}
		if !strings.Contains(s, "<") && (v != strings.TrimSpace(s) || r != "") {
			t.Fatalf("Split(%q) changed tag-free text: %q | %q", s, v, r)
		}
	})
}

// BenchmarkSplitAdversarial guards the linear-time promise on inputs that
// make naive scanners quadratic: many blocks, stray backticks, and tag-like
// prefixes that never close.
func BenchmarkSplitAdversarial(b *testing.B) {
	inputs := []string{
		strings.Repeat("<think>a</think>`", 5000),
		strings.Repeat("<think ", 10000),
		"\n" + strings.Repeat(" ", 50000) + strings.Repeat("<think/> ", 5000),
		strings.Repeat("`a` <think>", 3000),
	}
	for b.Loop() {
		for _, s := range inputs {
			Split(s)
		}
	}
}
