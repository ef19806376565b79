package llmparams

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse holds Parse to its promises on arbitrary input: it never panics,
// whatever it accepts is valid and survives a marshal round trip unchanged,
// and whatever it rejects is explained one standalone line per problem.
func FuzzParse(f *testing.F) {
	for _, group := range [][]parseCase{boundCases, typeCases, unknownCases, crossCases, syntaxCases} {
		for _, tc := range group {
			f.Add([]byte(tc.in))
		}
	}
	for _, s := range []string{
		fullJSON, "", "null", "{}", "[]", `""`, "{", "}", `{"reasoning":`,
		`{"temperature":-0}`, `{"seed":-0}`, `{"top_k":1E2}`, `{"min_p":1e-400}`,
		`{"stop":["\ud800"]}`, "{\"stop\":[\"\xff\"]}", `{"logit_bias":{"":1}}`,
		`{"reasoning":{"effort":"low"},"reasoning":{"max_tokens":2000}}`,
		`{"temperature":1,"temperature":"x"}`,
		strings.Repeat("[", 20000),
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !reflect.DeepEqual(p, Params{}) {
				t.Fatalf("Parse returned %+v alongside error %v", p, err)
			}
			fes := FieldErrors(err)
			if len(fes) == 0 {
				t.Fatalf("error %q is not made of FieldErrors", err)
			}
			for _, fe := range fes {
				line := fe.Error()
				if line == "" || strings.ContainsAny(line, "\r\n") {
					t.Fatalf("error line %q is not one standalone line", line)
				}
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but Validate says %v", data, err)
		}

		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		q, err := Parse(b)
		if err != nil {
			t.Fatalf("re-Parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the value:\n first %+v\nsecond %+v\n  via %s", p, q, b)
		}

		// Map is what actually goes to OpenRouter; it must say the same.
		m, err := json.Marshal(p.Map())
		if err != nil {
			t.Fatalf("Marshal(Map()): %v", err)
		}
		r, err := Parse(m)
		if err != nil || !reflect.DeepEqual(p, r) {
			t.Fatalf("Map as JSON %s parses to %+v, %v; want %+v", m, r, err, p)
		}
	})
}
