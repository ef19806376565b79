package llmparams

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestHasReasoning(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		want bool
	}{
		{"no reasoning", Params{}, false},
		{"other fields only", Params{MaxTokens: ptr(1000)}, false},
		{"empty object", Params{Reasoning: &Reasoning{}}, true},
		{"effort high", Params{Reasoning: &Reasoning{Effort: ptr("high")}}, true},
		{"effort minimal", Params{Reasoning: &Reasoning{Effort: ptr("minimal")}}, true},
		{"effort none", Params{Reasoning: &Reasoning{Effort: ptr("none")}}, false},
		{"budget only", Params{Reasoning: &Reasoning{MaxTokens: ptr(2048)}}, true},
		{"enabled", Params{Reasoning: &Reasoning{Enabled: ptr(true)}}, true},
		{"disabled", Params{Reasoning: &Reasoning{Enabled: ptr(false)}}, false},
		{"disabled wins over effort", Params{Reasoning: &Reasoning{Enabled: ptr(false), Effort: ptr("high")}}, false},
		{"effort none wins over enabled", Params{Reasoning: &Reasoning{Enabled: ptr(true), Effort: ptr("none")}}, false},
		{"excluded still reasons", Params{Reasoning: &Reasoning{Exclude: ptr(true)}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.HasReasoning(); got != tc.want {
				t.Errorf("HasReasoning() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	cases := []struct {
		name           string
		base, override Params
		want           Params
	}{
		{"both empty", Params{}, Params{}, Params{}},
		{"empty override keeps base", full(), Params{}, full()},
		{"override onto empty", Params{}, full(), full()},
		{
			"set fields win, unset fields keep base",
			Params{Temperature: ptr(0.7), TopK: ptr(40), Route: ptr("fallback")},
			Params{Temperature: ptr(1.2), Seed: ptr(5)},
			Params{Temperature: ptr(1.2), TopK: ptr(40), Route: ptr("fallback"), Seed: ptr(5)},
		},
		{
			"zero values are real overrides",
			Params{TopK: ptr(40), Reasoning: &Reasoning{Enabled: ptr(true)}},
			Params{TopK: ptr(0), Reasoning: &Reasoning{Enabled: ptr(false)}},
			Params{TopK: ptr(0), Reasoning: &Reasoning{Enabled: ptr(false)}},
		},
		{
			"reasoning merges key by key",
			Params{Reasoning: &Reasoning{Effort: ptr("low"), Exclude: ptr(true)}},
			Params{Reasoning: &Reasoning{Effort: ptr("high"), MaxTokens: ptr(4000)}},
			Params{Reasoning: &Reasoning{Effort: ptr("high"), MaxTokens: ptr(4000), Exclude: ptr(true)}},
		},
		{
			"lists and maps replace whole",
			Params{Stop: []string{"a", "b"}, LogitBias: map[string]float64{"1": 1, "2": 2}, Transforms: []string{"middle-out"}},
			Params{Stop: []string{"c"}, LogitBias: map[string]float64{"3": 3}},
			Params{Stop: []string{"c"}, LogitBias: map[string]float64{"3": 3}, Transforms: []string{"middle-out"}},
		},
		{
			"empty list clears",
			Params{Transforms: []string{"middle-out"}, Stop: []string{"a"}},
			Params{Transforms: []string{}},
			Params{Transforms: []string{}, Stop: []string{"a"}},
		},
		{
			"response_format replaced",
			Params{ResponseFormat: &ResponseFormat{Type: "json_object"}},
			Params{ResponseFormat: &ResponseFormat{Type: "text"}},
			Params{ResponseFormat: &ResponseFormat{Type: "text"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.base.Merge(tc.override)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Merge:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, tc.want))
			}
		})
	}
}

// Every field of a fully set override must win over a different fully set
// base; this catches a field Merge forgot.
func TestMergeCoversEveryField(t *testing.T) {
	base := full()
	override := Params{
		Temperature: ptr(1.0), TopP: ptr(0.5), TopK: ptr(1), FrequencyPenalty: ptr(1.0),
		PresencePenalty: ptr(1.0), RepetitionPenalty: ptr(1.0), MinP: ptr(0.5), TopA: ptr(0.5),
		Seed: ptr(1),
		Reasoning: &Reasoning{
			Effort: ptr("high"), MaxTokens: ptr(1024), Exclude: ptr(false), Enabled: ptr(false),
		},
		MaxTokens: ptr(9999), Stop: []string{"x"}, LogitBias: map[string]float64{"1": 1},
		ResponseFormat: &ResponseFormat{Type: "text"}, Transforms: []string{},
		Route: ptr("not-validated-here"), Verbosity: ptr("low"),
	}
	if got := base.Merge(override); !reflect.DeepEqual(got, override) {
		t.Errorf("Merge(full, other):\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, override))
	}
}

func TestMergeSharesNoMemory(t *testing.T) {
	base, override := full(), Params{Stop: []string{"x"}, Reasoning: &Reasoning{Effort: ptr("high")}}
	got := base.Merge(override)
	*got.Temperature = 1.9
	*got.Reasoning.Effort = "minimal"
	*got.Reasoning.MaxTokens = 9000
	got.Stop[0] = "changed"
	got.LogitBias["13"] = 99
	if !reflect.DeepEqual(base, full()) {
		t.Error("mutating the merge result changed the base")
	}
	if *override.Reasoning.Effort != "high" || override.Stop[0] != "x" {
		t.Error("mutating the merge result changed the override")
	}
}

func TestCloneIsDeep(t *testing.T) {
	orig := full()
	c := orig.Clone()
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("Clone() = %+v, want %+v", c, orig)
	}
	*c.Seed = 1
	*c.Reasoning.Exclude = false
	c.ResponseFormat.Type = "text"
	c.Transforms[0] = "x"
	if !reflect.DeepEqual(orig, full()) {
		t.Error("mutating a clone changed the original")
	}
	if e := (Params{Stop: []string{}}).Clone(); e.Stop == nil {
		t.Error("Clone turned an empty-but-set list into nil")
	}
}

func TestMap(t *testing.T) {
	want := map[string]any{
		"temperature":        0.7,
		"top_p":              0.9,
		"top_k":              40,
		"frequency_penalty":  0.1,
		"presence_penalty":   -0.1,
		"repetition_penalty": 1.05,
		"min_p":              0.05,
		"top_a":              0.2,
		"seed":               -7,
		"reasoning": map[string]any{
			"effort":     "low",
			"max_tokens": 2048,
			"exclude":    true,
			"enabled":    true,
		},
		"max_tokens":      4096,
		"stop":            []string{"\nUser:", "###"},
		"logit_bias":      map[string]float64{"50256": -100, "13": 2.5},
		"response_format": map[string]any{"type": "json_object"},
		"transforms":      []string{"middle-out"},
		"route":           "fallback",
		"verbosity":       "high",
	}
	if got := full().Map(); !reflect.DeepEqual(got, want) {
		t.Errorf("Map():\n got %#v\nwant %#v", got, want)
	}

	cases := []struct {
		name string
		p    Params
		want map[string]any
	}{
		{"zero", Params{}, map[string]any{}},
		{"zero values are kept", Params{TopK: ptr(0), Reasoning: &Reasoning{Enabled: ptr(false)}},
			map[string]any{"top_k": 0, "reasoning": map[string]any{"enabled": false}}},
		{"empty reasoning", Params{Reasoning: &Reasoning{}}, map[string]any{"reasoning": map[string]any{}}},
		{"empty transforms", Params{Transforms: []string{}}, map[string]any{"transforms": []string{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Map(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Map() = %#v, want %#v", got, tc.want)
			}
		})
	}
}

// Map's keys must be the struct's JSON names, or a request body built from
// it would silently drop settings.
func TestMapMatchesJSON(t *testing.T) {
	for _, p := range []Params{full(), {}, {Transforms: []string{}, Reasoning: &Reasoning{}}} {
		b, err := json.Marshal(p.Map())
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Map as JSON %s): %v", b, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("Map as JSON parses to %+v, want %+v", got, p)
		}
	}
}

func TestMapSharesNoMemory(t *testing.T) {
	p := full()
	m := p.Map()
	m["stop"].([]string)[0] = "changed"
	m["logit_bias"].(map[string]float64)["13"] = 50
	if !reflect.DeepEqual(p, full()) {
		t.Error("mutating Map's result changed the Params")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
