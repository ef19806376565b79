package imageparams

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p, err := Parse([]byte(`{"promptPrefix":"oil painting of","negativePrompt":"text","defaultNegativePrompt":"blurry","sizes":["512x512","1024X768"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.PromptPrefix != "oil painting of" || len(p.Sizes) != 2 {
		t.Fatalf("%+v", p)
	}
	for _, empty := range []string{"", "{}", "null"} {
		if _, err := Parse([]byte(empty)); err != nil {
			t.Errorf("Parse(%q): %v", empty, err)
		}
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	for doc, field := range map[string]string{
		`{"promptPrefx":"a"}`:                                  "promptPrefx",
		`{"negativePrompt":3}`:                                 "negativePrompt",
		`{"sizes":"512x512"}`:                                  "sizes",
		`{"sizes":["512x512","99x99"]}`:                        "sizes[1]",
		`{"sizes":["big"]}`:                                    "sizes[0]",
		`{"promptPrefix":"` + strings.Repeat("a", 1001) + `"}`: "promptPrefix",
		`{"promptPrefix":"a"} {}`:                              "trailing",
		`[1]`:                                                  "advanced parameters",
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Errorf("Parse(%.40s) accepted", doc)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, field) || strings.Contains(msg, "\n") {
			t.Errorf("Parse(%.40s) = %q, want one line naming %s", doc, msg, field)
		}
	}
}

func TestSize(t *testing.T) {
	free := Params{}
	if got := free.Size("512x768", "1024x1024"); got != "512x768" {
		t.Errorf("valid size: %s", got)
	}
	for _, bad := range []string{"", "100x100", "4096x1024", "wide", "512"} {
		if got := free.Size(bad, "1024x1024"); got != "1024x1024" {
			t.Errorf("Size(%q) = %s, want the default", bad, got)
		}
	}
	limited := Params{Sizes: []string{"512x512"}}
	if got := limited.Size("512X512", "1024x1024"); got != "512x512" {
		t.Errorf("allowed size: %s", got)
	}
	if got := limited.Size("768x768", "1024x1024"); got != "1024x1024" {
		t.Errorf("disallowed size: %s", got)
	}
}

func TestPrompt(t *testing.T) {
	p := Params{PromptPrefix: "ice sculpture of", NegativePrompt: "text", DefaultNegativePrompt: "blurry"}
	got := p.Prompt(" a fox ", "512x512")
	want := "ice sculpture of a fox\n\nImage size: 512x512.\nAvoid: text, blurry."
	if got != want {
		t.Errorf("Prompt = %q, want %q", got, want)
	}
	if got := (Params{}).Prompt("a fox", ""); got != "a fox" {
		t.Errorf("bare prompt = %q", got)
	}
}
