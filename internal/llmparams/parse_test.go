package llmparams

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// full sets every field, so tests built on it notice a field that Merge, Map
// or Clone forgot; TestFullSetsEveryField keeps it honest.
func full() Params {
	return Params{
		Temperature:       ptr(0.7),
		TopP:              ptr(0.9),
		TopK:              ptr(40),
		FrequencyPenalty:  ptr(0.1),
		PresencePenalty:   ptr(-0.1),
		RepetitionPenalty: ptr(1.05),
		MinP:              ptr(0.05),
		TopA:              ptr(0.2),
		Seed:              ptr(-7),
		Reasoning: &Reasoning{
			Effort:    ptr("low"),
			MaxTokens: ptr(2048),
			Exclude:   ptr(true),
			Enabled:   ptr(true),
		},
		MaxTokens:      ptr(4096),
		Stop:           []string{"\nUser:", "###"},
		LogitBias:      map[string]float64{"50256": -100, "13": 2.5},
		ResponseFormat: &ResponseFormat{Type: "json_object"},
		Transforms:     []string{"middle-out"},
		Route:          ptr("fallback"),
		Verbosity:      ptr("high"),
	}
}

const fullJSON = `{
	"temperature": 0.7, "top_p": 0.9, "top_k": 40,
	"frequency_penalty": 0.1, "presence_penalty": -0.1, "repetition_penalty": 1.05,
	"min_p": 0.05, "top_a": 0.2, "seed": -7,
	"reasoning": {"effort": "low", "max_tokens": 2048, "exclude": true, "enabled": true},
	"max_tokens": 4096, "stop": ["\nUser:", "###"], "logit_bias": {"50256": -100, "13": 2.5},
	"response_format": {"type": "json_object"},
	"transforms": ["middle-out"], "route": "fallback", "verbosity": "high"
}`

func TestFullSetsEveryField(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			name := path + v.Type().Field(i).Name
			if f.IsZero() {
				t.Errorf("full() leaves %s unset", name)
				continue
			}
			if f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct {
				check(name+".", f.Elem())
			}
		}
	}
	check("", reflect.ValueOf(full()))
}

func TestParseFull(t *testing.T) {
	got, err := Parse([]byte(fullJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, full()) {
		t.Errorf("Parse(fullJSON) = %+v, want %+v", got, full())
	}
}

func TestParseNothingSet(t *testing.T) {
	for _, in := range []string{"", "  \n\t", "null", " null ", "{}", "{ }"} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, Params{}) {
			t.Errorf("Parse(%q) = %+v, want zero Params", in, got)
		}
	}
}

// Null on an optional field means "not set", same as leaving it out.
func TestParseNullFieldsAreUnset(t *testing.T) {
	got, err := Parse([]byte(`{"temperature": null, "stop": null, "logit_bias": null, "reasoning": {"effort": null}, "response_format": null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Params{Reasoning: &Reasoning{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// parseCase is shared with the fuzz seed corpus.
type parseCase struct {
	name string
	in   string
	want string // the whole error text; "" means valid
}

// boundCases: every field valid at its bounds and rejected just outside.
var boundCases = []parseCase{
	{"temperature min", `{"temperature": 0}`, ""},
	{"temperature max", `{"temperature": 2}`, ""},
	{"temperature below", `{"temperature": -0.01}`, "temperature: -0.01 is out of range, allowed 0 to 2"},
	{"temperature above", `{"temperature": 2.5}`, "temperature: 2.5 is out of range, allowed 0 to 2"},
	{"top_p min", `{"top_p": 0}`, ""},
	{"top_p max", `{"top_p": 1}`, ""},
	{"top_p below", `{"top_p": -0.001}`, "top_p: -0.001 is out of range, allowed 0 to 1"},
	{"top_p above", `{"top_p": 1.001}`, "top_p: 1.001 is out of range, allowed 0 to 1"},
	{"top_k min", `{"top_k": 0}`, ""},
	{"top_k large", `{"top_k": 1000000}`, ""},
	{"top_k below", `{"top_k": -1}`, "top_k: -1 is out of range, allowed 0 or more"},
	{"frequency_penalty min", `{"frequency_penalty": -2}`, ""},
	{"frequency_penalty max", `{"frequency_penalty": 2}`, ""},
	{"frequency_penalty below", `{"frequency_penalty": -2.01}`, "frequency_penalty: -2.01 is out of range, allowed -2 to 2"},
	{"frequency_penalty above", `{"frequency_penalty": 2.01}`, "frequency_penalty: 2.01 is out of range, allowed -2 to 2"},
	{"presence_penalty min", `{"presence_penalty": -2}`, ""},
	{"presence_penalty max", `{"presence_penalty": 2}`, ""},
	{"presence_penalty below", `{"presence_penalty": -2.01}`, "presence_penalty: -2.01 is out of range, allowed -2 to 2"},
	{"presence_penalty above", `{"presence_penalty": 2.01}`, "presence_penalty: 2.01 is out of range, allowed -2 to 2"},
	{"repetition_penalty min", `{"repetition_penalty": 0}`, ""},
	{"repetition_penalty max", `{"repetition_penalty": 2}`, ""},
	{"repetition_penalty below", `{"repetition_penalty": -0.1}`, "repetition_penalty: -0.1 is out of range, allowed 0 to 2"},
	{"repetition_penalty above", `{"repetition_penalty": 2.1}`, "repetition_penalty: 2.1 is out of range, allowed 0 to 2"},
	{"min_p min", `{"min_p": 0}`, ""},
	{"min_p max", `{"min_p": 1}`, ""},
	{"min_p below", `{"min_p": -0.1}`, "min_p: -0.1 is out of range, allowed 0 to 1"},
	{"min_p above", `{"min_p": 1.1}`, "min_p: 1.1 is out of range, allowed 0 to 1"},
	{"top_a min", `{"top_a": 0}`, ""},
	{"top_a max", `{"top_a": 1}`, ""},
	{"top_a below", `{"top_a": -0.1}`, "top_a: -0.1 is out of range, allowed 0 to 1"},
	{"top_a above", `{"top_a": 1.1}`, "top_a: 1.1 is out of range, allowed 0 to 1"},
	{"seed negative", `{"seed": -9223372036854775808}`, ""},
	{"seed positive", `{"seed": 9223372036854775807}`, ""},
	{"seed too big", `{"seed": 9223372036854775808}`, "seed: 9223372036854775808 is out of range, allowed -9223372036854775808 to 9223372036854775807"},

	{"effort high", `{"reasoning": {"effort": "high"}}`, ""},
	{"effort medium", `{"reasoning": {"effort": "medium"}}`, ""},
	{"effort low", `{"reasoning": {"effort": "low"}}`, ""},
	{"effort minimal", `{"reasoning": {"effort": "minimal"}}`, ""},
	{"effort none", `{"reasoning": {"effort": "none"}}`, ""},
	{"effort bad", `{"reasoning": {"effort": "extreme"}}`, `reasoning.effort: "extreme" is not allowed, allowed "high", "medium", "low", "minimal", "none"`},
	{"effort wrong case", `{"reasoning": {"effort": "High"}}`, `reasoning.effort: "High" is not allowed, allowed "high", "medium", "low", "minimal", "none"`},
	{"reasoning budget min", `{"reasoning": {"max_tokens": 1024}}`, ""},
	{"reasoning budget max", `{"reasoning": {"max_tokens": 32000}}`, ""},
	{"reasoning budget below", `{"reasoning": {"max_tokens": 1023}}`, "reasoning.max_tokens: 1023 is out of range, allowed 1024 to 32000"},
	{"reasoning budget above", `{"reasoning": {"max_tokens": 32001}}`, "reasoning.max_tokens: 32001 is out of range, allowed 1024 to 32000"},
	{"reasoning booleans", `{"reasoning": {"exclude": false, "enabled": false}}`, ""},
	{"reasoning empty", `{"reasoning": {}}`, ""},

	{"max_tokens min", `{"max_tokens": 1}`, ""},
	{"max_tokens zero", `{"max_tokens": 0}`, "max_tokens: 0 is out of range, allowed 1 or more"},
	{"max_tokens negative", `{"max_tokens": -5}`, "max_tokens: -5 is out of range, allowed 1 or more"},
	{"stop empty list", `{"stop": []}`, ""},
	{"stop four", `{"stop": ["a", "b", "c", "d"]}`, ""},
	{"stop whitespace", `{"stop": ["\n", " "]}`, ""},
	{"stop five", `{"stop": ["a", "b", "c", "d", "e"]}`, "stop: 5 entries are too many, allowed at most 4 non-empty strings"},
	{"stop empty string", `{"stop": ["a", ""]}`, `stop[1]: "" is empty, allowed at most 4 non-empty strings`},
	{"logit_bias empty", `{"logit_bias": {}}`, ""},
	{"logit_bias bounds", `{"logit_bias": {"0": -100, "50256": 100, "4294967295": 0.5}}`, ""},
	{"logit_bias below", `{"logit_bias": {"50256": -100.5}}`, `logit_bias["50256"]: -100.5 is out of range, allowed -100 to 100`},
	{"logit_bias above", `{"logit_bias": {"50256": 101}}`, `logit_bias["50256"]: 101 is out of range, allowed -100 to 100`},
	{"logit_bias word key", `{"logit_bias": {"hello": 1}}`, `logit_bias["hello"]: key "hello" is not a token id, allowed decimal integers such as "50256"`},
	{"logit_bias negative key", `{"logit_bias": {"-1": 1}}`, `logit_bias["-1"]: key "-1" is not a token id, allowed decimal integers such as "50256"`},
	{"logit_bias padded key", `{"logit_bias": {"007": 1}}`, `logit_bias["007"]: key "007" is not a token id, allowed decimal integers such as "50256"`},
	{"logit_bias huge key", `{"logit_bias": {"4294967296": 1}}`, `logit_bias["4294967296"]: key "4294967296" is not a token id, allowed decimal integers such as "50256"`},
	{"response_format text", `{"response_format": {"type": "text"}}`, ""},
	{"response_format json_object", `{"response_format": {"type": "json_object"}}`, ""},
	{"response_format json_schema", `{"response_format": {"type": "json_schema"}}`, `response_format.type: "json_schema" is not allowed, allowed "text", "json_object"`},
	{"response_format no type", `{"response_format": {}}`, `response_format.type: "" is not allowed, allowed "text", "json_object"`},

	{"transforms middle-out", `{"transforms": ["middle-out"]}`, ""},
	{"transforms empty list", `{"transforms": []}`, ""},
	{"transforms empty name", `{"transforms": [""]}`, `transforms[0]: "" is empty, allowed non-empty transform names such as "middle-out"; [] turns off the default transforms`},
	{"route fallback", `{"route": "fallback"}`, ""},
	{"route other", `{"route": "random"}`, `route: "random" is not allowed, allowed "fallback"`},
	{"verbosity low", `{"verbosity": "low"}`, ""},
	{"verbosity medium", `{"verbosity": "medium"}`, ""},
	{"verbosity high", `{"verbosity": "high"}`, ""},
	{"verbosity other", `{"verbosity": "max"}`, `verbosity: "max" is not allowed, allowed "low", "medium", "high"`},
}

var typeCases = []parseCase{
	{"number as string", `{"temperature": "0.7"}`, `temperature: expected a number, got "0.7"`},
	{"number as bool", `{"top_p": true}`, "top_p: expected a number, got true"},
	{"number as array", `{"min_p": [0.1]}`, "min_p: expected a number, got an array"},
	{"number overflow", `{"temperature": 1e400}`, "temperature: 1e400 is out of range, allowed finite numbers"},
	{"integer fraction", `{"top_k": 1.5}`, "top_k: expected an integer, got 1.5"},
	{"integer point zero", `{"top_k": 1.0}`, "top_k: expected an integer, got 1.0"},
	{"integer exponent", `{"max_tokens": 1e3}`, "max_tokens: expected an integer, got 1e3"},
	{"integer as string", `{"seed": "42"}`, `seed: expected an integer, got "42"`},
	{"nested integer fraction", `{"reasoning": {"max_tokens": 2048.5}}`, "reasoning.max_tokens: expected an integer, got 2048.5"},
	{"reasoning not object", `{"reasoning": "high"}`, `reasoning: expected an object, got "high"`},
	{"reasoning bool", `{"reasoning": true}`, "reasoning: expected an object, got true"},
	{"effort number", `{"reasoning": {"effort": 3}}`, "reasoning.effort: expected a string, got 3"},
	{"exclude string", `{"reasoning": {"exclude": "yes"}}`, `reasoning.exclude: expected a boolean, got "yes"`},
	{"enabled number", `{"reasoning": {"enabled": 1}}`, "reasoning.enabled: expected a boolean, got 1"},
	{"stop string", `{"stop": "\n"}`, `stop: expected an array of strings, got "\n"`},
	{"stop number element", `{"stop": ["a", 5]}`, "stop[1]: expected a string, got 5"},
	{"stop null element", `{"stop": [null]}`, "stop[0]: expected a string, got null"},
	{"logit_bias array", `{"logit_bias": [1, 2]}`, "logit_bias: expected an object of numbers, got an array"},
	{"logit_bias string value", `{"logit_bias": {"13": "up"}}`, `logit_bias["13"]: expected a number, got "up"`},
	{"logit_bias null value", `{"logit_bias": {"13": null}}`, `logit_bias["13"]: expected a number, got null`},
	{"response_format string", `{"response_format": "json_object"}`, `response_format: expected an object, got "json_object"`},
	{"response_format type null", `{"response_format": {"type": null}}`, "response_format.type: expected a string, got null"},
	{"transforms string", `{"transforms": "middle-out"}`, `transforms: expected an array of strings, got "middle-out"`},
	{"route bool", `{"route": false}`, "route: expected a string, got false"},
	{"verbosity object", `{"verbosity": {}}`, "verbosity: expected a string, got an object"},
	{"document array", `[{"temperature": 1}]`, "advanced_parameters: expected an object, got an array"},
	{"document string", `"{\"temperature\": 1}"`, `advanced_parameters: expected an object, got "{\"temperature\": 1}"`},
	{"document number", `3`, "advanced_parameters: expected an object, got 3"},
	{"long string clipped", `{"route": "` + strings.Repeat("x", 100) + `"}`, `route: "` + strings.Repeat("x", 60) + `"... is not allowed, allowed "fallback"`},
}

var unknownCases = []parseCase{
	{"top-level", `{"foo": 1}`, `unknown field "foo": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity`},
	{"wrong case", `{"Temperature": 1}`, `unknown field "Temperature": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity`},
	{"camelCase", `{"topP": 1}`, `unknown field "topP": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity`},
	{"in reasoning", `{"reasoning": {"budget": 1}}`, `unknown field "reasoning.budget": allowed fields are effort, max_tokens, exclude, enabled`},
	{"in response_format", `{"response_format": {"type": "text", "schema": {}}}`, `unknown field "response_format.schema": allowed fields are type`},
	{"several sorted", `{"zeta": 1, "alpha": 2, "temperature": 1}`, "unknown field \"alpha\": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity\n" +
		"unknown field \"zeta\": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity"},
	{"newline in key", `{"reasoning": {"a\nb": 1}}`, `unknown field "reasoning.a\nb": allowed fields are effort, max_tokens, exclude, enabled`},
}

var crossCases = []parseCase{
	{"max_tokens above budget", `{"max_tokens": 4097, "reasoning": {"max_tokens": 4096}}`, ""},
	{"max_tokens equal to budget", `{"max_tokens": 4096, "reasoning": {"max_tokens": 4096}}`, "max_tokens: 4096 must exceed reasoning.max_tokens (4096), allowed 4097 or more"},
	{"max_tokens below budget", `{"max_tokens": 2000, "reasoning": {"max_tokens": 8000}}`, "max_tokens: 2000 must exceed reasoning.max_tokens (8000), allowed 8001 or more"},
	{"only max_tokens", `{"max_tokens": 100}`, ""},
	{"only budget", `{"reasoning": {"max_tokens": 8000}}`, ""},
	// The budget's own error is enough; a comparison against a value that
	// is already wrong would only add noise.
	{"budget out of range", `{"max_tokens": 500, "reasoning": {"max_tokens": 600}}`, "reasoning.max_tokens: 600 is out of range, allowed 1024 to 32000"},
	{"max_tokens out of range", `{"max_tokens": 0, "reasoning": {"max_tokens": 2000}}`, "max_tokens: 0 is out of range, allowed 1 or more"},
}

var syntaxCases = []parseCase{
	{"truncated", `{"temperature": 1`, "advanced_parameters: invalid JSON: unexpected end of input at byte 17"},
	{"bad token", `{"temperature": x}`, "advanced_parameters: invalid JSON: invalid character 'x' looking for beginning of value near byte 17"},
	{"trailing value", `{} {}`, "advanced_parameters: invalid JSON: unexpected data after the top-level value, which ends at byte 2"},
	{"trailing garbage", `{"top_k": 1},`, "advanced_parameters: invalid JSON: unexpected data after the top-level value, which ends at byte 12"},
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Parse(%s): unexpected error: %v", tc.in, err)
				}
				if err := got.Validate(); err != nil {
					t.Fatalf("Validate after Parse(%s): %v", tc.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want error %q", tc.in, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse(%s) error:\n got: %s\nwant: %s", tc.in, err, tc.want)
			}
			if !reflect.DeepEqual(got, Params{}) {
				t.Errorf("Parse(%s) returned %+v with an error, want zero Params", tc.in, got)
			}
		})
	}
}

func TestParseBounds(t *testing.T)     { runParseCases(t, boundCases) }
func TestParseTypes(t *testing.T)      { runParseCases(t, typeCases) }
func TestParseUnknown(t *testing.T)    { runParseCases(t, unknownCases) }
func TestParseCrossField(t *testing.T) { runParseCases(t, crossCases) }
func TestParseSyntax(t *testing.T)     { runParseCases(t, syntaxCases) }

func TestParseDuplicateKeyLastWins(t *testing.T) {
	got, err := Parse([]byte(`{"temperature": "hot", "temperature": 1, "reasoning": {"effort": "low"}, "reasoning": {"max_tokens": 2000}}`))
	if err != nil {
		t.Fatal(err)
	}
	// The second reasoning object replaces the first, as in jsonb, rather
	// than being merged into it.
	want := Params{Temperature: ptr(1.0), Reasoning: &Reasoning{MaxTokens: ptr(2000)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Every problem is reported, in declaration order, one standalone line each.
func TestParseReportsEverythingInOrder(t *testing.T) {
	_, err := Parse([]byte(`{"verbosity": 1, "zzz": 0, "top_k": 1.5, "reasoning": {"max_tokens": "x", "q": 1}, "stop": [1, "a", 2]}`))
	want := []string{
		`unknown field "zzz": allowed fields are temperature, top_p, top_k, frequency_penalty, presence_penalty, repetition_penalty, min_p, top_a, seed, reasoning, max_tokens, stop, logit_bias, response_format, transforms, route, verbosity`,
		"top_k: expected an integer, got 1.5",
		`unknown field "reasoning.q": allowed fields are effort, max_tokens, exclude, enabled`,
		`reasoning.max_tokens: expected an integer, got "x"`,
		"stop[0]: expected a string, got 1",
		"stop[2]: expected a string, got 2",
		"verbosity: expected a string, got 1",
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("got lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var paths []string
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
	}
	wantPaths := []string{"zzz", "top_k", "reasoning.q", "reasoning.max_tokens", "stop[0]", "stop[2]", "verbosity"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Errorf("paths = %q, want %q", paths, wantPaths)
	}
}

func TestRoundTrip(t *testing.T) {
	docs := []string{
		fullJSON,
		`{}`,
		`{"transforms": []}`,
		`{"stop": [], "logit_bias": {}}`,
		`{"reasoning": {}}`,
		`{"reasoning": {"enabled": false}, "top_k": 0, "seed": 0}`,
		`{"temperature": 0.30000000000000004, "min_p": 5e-324}`,
	}
	for _, doc := range docs {
		p, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%s))) = %v; marshalled %s", doc, err, b)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("round trip of %s: got %+v, want %+v (via %s)", doc, q, p, b)
		}
	}
}

// Empty-but-set must survive marshalling: "transforms": [] is an
// instruction to OpenRouter, not the same as leaving transforms out.
func TestMarshalKeepsEmptyButSet(t *testing.T) {
	b, err := json.Marshal(Params{Transforms: []string{}, Stop: []string{}, LogitBias: map[string]float64{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"stop":[],"logit_bias":{},"transforms":[]}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	b, err = json.Marshal(Params{})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{}" {
		t.Errorf("Marshal(zero) = %s, want {}", b)
	}
}
