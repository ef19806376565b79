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

// A requested size is used as given (normalised) or refused with what is
// accepted; only no request at all means the default.
func TestSize(t *testing.T) {
	free := Params{}
	limited := Params{Sizes: []string{"512x512", "768x1024"}}
	cases := []struct {
		p         Params
		requested string
		want      string // the size, or the error's text
	}{
		{free, "", "1024x1024"},
		{free, "  ", "1024x1024"},
		{free, "512x768", "512x768"},
		{free, " 512X768 ", "512x768"},
		{free, "100x100", `size "100x100" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`},
		{free, "4096x1024", `size "4096x1024" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`},
		{free, "wide", `size "wide" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`},
		{free, "512", `size "512" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`},
		{free, strings.Repeat("9", 40), `size "9999999999999999999…" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`},
		{limited, "", "1024x1024"},
		{limited, "512X512", "512x512"},
		{limited, "768x1024", "768x1024"},
		{limited, "768x768", `size "768x768" is not accepted: this personality draws 512x512, 768x1024`},
		{limited, "100x100", `size "100x100" is not accepted: this personality draws 512x512, 768x1024`},
	}
	for _, tc := range cases {
		got, err := tc.p.Size(tc.requested, "1024x1024")
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Size(%q) with sizes %v = %q, want %q", tc.requested, tc.p.Sizes, got, tc.want)
		}
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
