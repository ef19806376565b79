package llmparams

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Validate on values built in code, where JSON's limits do not apply: NaN,
// infinities and the exact float neighbours of each bound.
func TestValidateNumbers(t *testing.T) {
	type getter = func(*Params) **float64
	fields := []struct {
		name   string
		lo, hi float64
		field  getter
	}{
		{"temperature", 0, 2, func(p *Params) **float64 { return &p.Temperature }},
		{"top_p", 0, 1, func(p *Params) **float64 { return &p.TopP }},
		{"frequency_penalty", -2, 2, func(p *Params) **float64 { return &p.FrequencyPenalty }},
		{"presence_penalty", -2, 2, func(p *Params) **float64 { return &p.PresencePenalty }},
		{"repetition_penalty", 0, 2, func(p *Params) **float64 { return &p.RepetitionPenalty }},
		{"min_p", 0, 1, func(p *Params) **float64 { return &p.MinP }},
		{"top_a", 0, 1, func(p *Params) **float64 { return &p.TopA }},
	}
	for _, f := range fields {
		cases := []struct {
			v  float64
			ok bool
		}{
			{f.lo, true},
			{f.hi, true},
			{(f.lo + f.hi) / 2, true},
			{math.Nextafter(f.lo, math.Inf(-1)), false},
			{math.Nextafter(f.hi, math.Inf(1)), false},
			{math.NaN(), false},
			{math.Inf(1), false},
			{math.Inf(-1), false},
		}
		for _, tc := range cases {
			var p Params
			*f.field(&p) = ptr(tc.v)
			err := p.Validate()
			if tc.ok != (err == nil) {
				t.Errorf("%s = %v: Validate() = %v, want ok=%v", f.name, tc.v, err, tc.ok)
				continue
			}
			if err != nil && !strings.HasPrefix(err.Error(), f.name+": ") {
				t.Errorf("%s = %v: error %q does not start with the field name", f.name, tc.v, err)
			}
		}
	}
}

func TestValidateMessages(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		want string
	}{
		{"zero", Params{}, ""},
		{"full", full(), ""},
		{"NaN", Params{Temperature: ptr(math.NaN())}, "temperature: NaN is out of range, allowed 0 to 2"},
		{"Inf", Params{TopP: ptr(math.Inf(1))}, "top_p: +Inf is out of range, allowed 0 to 1"},
		{"logit_bias NaN", Params{LogitBias: map[string]float64{"1": math.NaN()}}, `logit_bias["1"]: NaN is out of range, allowed -100 to 100`},
		{"logit_bias bad key and value", Params{LogitBias: map[string]float64{"a.b": 500}},
			"logit_bias[\"a.b\"]: key \"a.b\" is not a token id, allowed decimal integers such as \"50256\"\n" +
				`logit_bias["a.b"]: 500 is out of range, allowed -100 to 100`},
		{"response_format without type", Params{ResponseFormat: &ResponseFormat{}}, `response_format.type: "" is not allowed, allowed "text", "json_object"`},
		{"stop too many and empty", Params{Stop: []string{"", "b", "c", "d", ""}},
			"stop: 5 entries are too many, allowed at most 4 non-empty strings\n" +
				`stop[0]: "" is empty, allowed at most 4 non-empty strings` + "\n" +
				`stop[4]: "" is empty, allowed at most 4 non-empty strings`},
		{"nonprinting value stays on one line", Params{Verbosity: ptr("lo\nw")}, `verbosity: "lo\nw" is not allowed, allowed "low", "medium", "high"`},
		{"cross-field", Params{MaxTokens: ptr(1024), Reasoning: &Reasoning{MaxTokens: ptr(1024)}}, "max_tokens: 1024 must exceed reasoning.max_tokens (1024), allowed 1025 or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("Validate():\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestValidateOrderAndFieldErrors(t *testing.T) {
	p := Params{
		Verbosity:   ptr("loud"),
		Temperature: ptr(3.0),
		MaxTokens:   ptr(0),
		Reasoning:   &Reasoning{Effort: ptr("max")},
		TopK:        ptr(-1),
	}
	err := p.Validate()
	var paths []string
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
		if !strings.HasPrefix(fe.Error(), fe.Path+": ") {
			t.Errorf("line %q does not start with its path %q", fe.Error(), fe.Path)
		}
	}
	want := []string{"temperature", "top_k", "reasoning.effort", "max_tokens", "verbosity"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
	if got := len(strings.Split(err.Error(), "\n")); got != len(want) {
		t.Errorf("error has %d lines, want %d", got, len(want))
	}
}

func TestSingleProblemIsAFieldError(t *testing.T) {
	err := Params{TopK: ptr(-1)}.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "top_k" {
		t.Fatalf("errors.As(%v) = %+v", err, fe)
	}
	if FieldErrors(nil) != nil || FieldErrors(errors.New("other")) != nil {
		t.Error("FieldErrors should ignore nil and foreign errors")
	}
}

// Fields must describe every leaf of the JSON document, in declaration
// order, so help text cannot fall behind the struct.
func TestFieldsCoverEveryLeaf(t *testing.T) {
	var leaves func(prefix string, t reflect.Type) []string
	leaves = func(prefix string, t reflect.Type) []string {
		var out []string
		for _, f := range jsonFields(t) {
			ft := f.typ
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, leaves(prefix+f.name+".", ft)...)
				continue
			}
			out = append(out, prefix+f.name)
		}
		return out
	}
	want := leaves("", paramsType)
	var got []string
	for _, f := range Fields() {
		got = append(got, f.Path)
		if f.Type == "" || f.Allowed == "" {
			t.Errorf("Fields entry %+v is incomplete", f)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields paths:\n got %q\nwant %q", got, want)
	}
}
