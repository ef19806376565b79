package shapes

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseBirthday(t *testing.T) {
	cases := []struct {
		in      string
		m, d, y int
		err     error
	}{
		{"10-17", 10, 17, 0, nil},
		{"1984-07-15", 7, 15, 1984, nil},
		{" 02-29 ", 2, 29, 0, nil}, // some year has it
		{"2000-02-29", 2, 29, 2000, nil},
		{"1999-02-29", 0, 0, 0, errNotReal},
		{"02-30", 0, 0, 0, errNotReal},
		{"13-01", 0, 0, 0, errNotReal},
		{"00-10", 0, 0, 0, errNotReal},
		{"04-31", 0, 0, 0, errNotReal},
		{"0000-01-01", 0, 0, 0, errNotReal},
		{"sometime in spring", 0, 0, 0, errNotDate},
		{"1-2", 0, 0, 0, errNotDate},
		{"+1-02", 0, 0, 0, errNotDate},
		{"2001/01/01", 0, 0, 0, errNotDate},
		{"١٠-١٧", 0, 0, 0, errNotDate}, // not ASCII digits
	}
	for _, c := range cases {
		m, d, y, err := parseBirthday(c.in)
		if m != c.m || d != c.d || y != c.y || err != c.err {
			t.Errorf("parseBirthday(%q) = %d, %d, %d, %v; want %d, %d, %d, %v", c.in, m, d, y, err, c.m, c.d, c.y, c.err)
		}
	}
}

// TestParsePersonality covers one field at a time: what is imported and
// what is reported, against a minimal valid file.
func TestParsePersonality(t *testing.T) {
	const path = "personalities/x-1/x-1.json"
	base := `"id": "s1", "username": "x-1", "engine_model": "a/b"`
	cases := []struct {
		name   string
		fields string   // added to base
		want   []string // "field: message prefix"
		check  func(Personality) bool
	}{
		{"minimal", ``, nil, func(p Personality) bool {
			return p.Name == "x-1" && p.ShapeID == "s1" && p.Model == "a/b" && p.Voice == nil && p.Card == nil
		}},
		{"number as text field", `"personality_likes": 12.5, "name": 7`,
			[]string{`name: expected text, got the number 7`, `personality_likes: expected text, got the number 12.5; imported as "12.5"`},
			func(p Personality) bool { return p.Card["personality_likes"] == "12.5" && p.DisplayName == "7" }},
		{"object and bool as text", `"jailbreak": {"a": 1}, "user_prompt": true`,
			[]string{"jailbreak: expected text, got an object; ignored", "user_prompt: expected text, got true; ignored"},
			func(p Personality) bool { return p.SystemPrompt == "" && p.CharacterInfo == "" }},
		{"nulls are absent", `"jailbreak": null, "birthday": null, "engine_temperature": null, "voice_id": null`, nil,
			func(p Personality) bool { return p.SystemPrompt == "" && p.Params.Temperature == nil }},
		{"NUL removed", `"jailbreak": "a\u0000b"`, []string{"jailbreak: contains NUL characters"},
			func(p Personality) bool { return p.SystemPrompt == "ab" }},
		{"history joins character info", `"user_prompt": "Info.", "personality_history": "Long ago."`, nil,
			func(p Personality) bool { return p.CharacterInfo == "Info.\n\nLong ago." }},
		{"history alone", `"history": "Long ago."`, nil,
			func(p Personality) bool { return p.CharacterInfo == "Long ago." }},
		{"unprefixed card keys", `"conversational_goals": "g", "personality_tone": "  "`, nil,
			func(p Personality) bool { return p.Card["conversational_goals"] == "g" && len(p.Card) == 1 }},
		{"birthday as number", `"birthday": 1017`,
			[]string{"birthday: expected text MM-DD or YYYY-MM-DD, got the number 1017; imported without a birthday"},
			func(p Personality) bool { return p.BirthMonth == 0 }},
		{"params dropped one by one", `"engine_top_k": 40.5, "engine_top_p": -1, "engine_min_p": "lots", "engine_frequency_penalty": true, "engine_presence_penalty": 1e999, "engine_repetition_penalty": 1.1`,
			[]string{
				"engine_frequency_penalty: expected a number, got true; ignored",
				`engine_min_p: expected a number, got "lots"; ignored`,
				"engine_presence_penalty: 1e999 is not a usable number; ignored",
				"engine_top_k: expected a whole number, got 40.5; ignored",
				"engine_top_p: top_p -1 is out of range, allowed 0 to 1; left unset",
			},
			func(p Personality) bool {
				return p.Params.TopK == nil && p.Params.TopP == nil && p.Params.MinP == nil &&
					p.Params.RepetitionPenalty != nil && *p.Params.RepetitionPenalty == 1.1
			}},
		{"integral float is an integer", `"engine_top_k": 40.0`, nil,
			func(p Personality) bool { return p.Params.TopK != nil && *p.Params.TopK == 40 }},
		{"bad model", `"engine_model": "gpt 4"`,
			[]string{`engine_model: "gpt 4" is not an OpenRouter model id`},
			func(p Personality) bool { return p.Model == "" }},
		{"bad avatar", `"avatar": "javascript:alert(1)"`,
			[]string{`avatar: "javascript:alert(1)" is not an http(s) URL; imported without an avatar`},
			func(p Personality) bool { return p.AvatarURL == "" }},
		{"voice without id", `"voice_model": "eleven_multilingual_v2", "voice_stability": 9`, nil,
			func(p Personality) bool { return p.Voice == nil }},
		{"voice sliders", `"voice_id": " v1 ", "voice_model": "m2", "voice_style": -0.1, "voice_frequency": 1, "voice_similarity": "0.25"`,
			[]string{`voice_similarity: expected a number, got the text "0.25"; read as 0.25`, "voice_style: -0.1 is outside 0..1; the default applies"},
			func(p Personality) bool {
				v := p.Voice
				return v != nil && v.VoiceID == "v1" && v.Model == "m2" && v.Style == nil && *v.Frequency == 1 && *v.Similarity == 0.25 && v.Stability == nil
			}},
		{"no id", `"id": ""`, []string{"id: missing; the registry entry is matched by username instead"},
			func(p Personality) bool { return p.ShapeID == "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := "{" + base
			if c.fields != "" {
				data += ", " + c.fields
			}
			data += "}"
			p, problems, ok := parsePersonality(path, "x-1", []byte(data))
			if !ok {
				t.Fatalf("not imported: %v", problems)
			}
			var got []string
			for _, pr := range problems {
				if pr.Path != path {
					t.Errorf("problem path %q", pr.Path)
				}
				got = append(got, pr.Field+": "+pr.Message)
			}
			slices.Sort(got)
			if len(got) != len(c.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			} else {
				for i := range got {
					if !strings.HasPrefix(got[i], c.want[i]) {
						t.Errorf("problem %q, want prefix %q", got[i], c.want[i])
					}
				}
			}
			if !c.check(p) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

// TestParsePersonalityRejects covers files that cannot become a personality.
func TestParsePersonalityRejects(t *testing.T) {
	cases := []struct {
		name, dir, data, field, message string
	}{
		{"empty", "x-1", "", "", "empty file; personality not imported"},
		{"blank", "x-1", " \n\t", "", "empty file"},
		{"truncated", "x-1", `{"username": "x-1", "jailbreak": "You are`, "", "truncated: the JSON stops mid-value at byte 41"},
		{"not JSON", "x-1", "username: x-1", "", "not JSON (invalid character 'u'"},
		{"trailing data", "x-1", `{"username": "x-1"} {}`, "", "not JSON: more data after the value that ends at byte 19"},
		{"array", "x-1", `[{"username": "x-1"}]`, "", "expected a JSON object, got an array"},
		{"string", "x-1", `"x-1"`, "", `expected a JSON object, got the text "x-1"`},
		{"no usable name", "", `{"username": 5}`, "username", `"5" is not a valid name`},
		{"no name, bad directory", "X 1", `{"id": "a"}`, "username", "missing; personality not imported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, problems, ok := parsePersonality("f.json", c.dir, []byte(c.data))
			if ok {
				t.Fatal("imported")
			}
			i := slices.IndexFunc(problems, func(p Problem) bool {
				return p.Path == "f.json" && p.Field == c.field && strings.Contains(p.Message, c.message)
			})
			if i < 0 {
				t.Errorf("got %v, want %s: %s", problems, c.field, c.message)
			}
		})
	}

	// A BOM is an editor's accident, not a different format.
	p, problems, ok := parsePersonality("f.json", "x-1", []byte("\xef\xbb\xbf{\"username\": \"x-1\", \"id\": \"a\", \"engine_model\": \"a/b\"}"))
	if !ok || len(problems) != 0 || p.Name != "x-1" {
		t.Errorf("BOM: %v %v %+v", ok, problems, p)
	}
}

func TestParseHistory(t *testing.T) {
	const path = "h.json"
	t0 := time.Unix(1649472667, 0).UTC()
	cases := []struct {
		name    string
		shapeID string
		data    string
		turns   []Turn
		want    []string // "field: message prefix", in report order
	}{
		{"empty messages", "s", `{"shape_id": "s", "messages": []}`, nil, nil},
		{"no messages key", "s", `{"shape_id": "s"}`, nil, nil},
		{"sorted by time, pairs kept", "s", `{"messages": [
			{"ts": 1649472767, "message": "second", "reply": "second reply"},
			{"ts": 1649472667, "message": "first", "reply": "first reply"}]}`,
			[]Turn{{RoleUser, "first", t0}, {RoleAssistant, "first reply", t0},
				{RoleUser, "second", t0.Add(100 * time.Second)}, {RoleAssistant, "second reply", t0.Add(100 * time.Second)}}, nil},
		{"time forms", "", `{"messages": [
			{"ts": "1649472667", "message": "a"},
			{"ts": "2022-04-09T02:51:07Z", "message": "b"},
			{"ts": 1649472667.5, "message": "c"}]}`,
			[]Turn{{RoleUser, "a", t0}, {RoleUser, "b", t0}, {RoleUser, "c", t0.Add(500 * time.Millisecond)}}, nil},
		{"bad times", "", `{"messages": [
			{"message": "no ts"},
			{"ts": 1649472667000, "message": "milliseconds"},
			{"ts": -5, "message": "negative"},
			{"ts": true, "message": "bool"},
			{"ts": "1899-01-01T00:00:00Z", "message": "too old"},
			{"ts": "soon", "message": "", "reply": ""},
			"not an object",
			{"ts": 1649472667, "message": 42}]}`,
			[]Turn{{RoleUser, "42", t0}},
			[]string{
				"messages[0].ts: missing; exchange skipped",
				"messages[1].ts: 1649472667000 is not a plausible unix time in seconds",
				"messages[2].ts: -5 is not a plausible unix time in seconds",
				"messages[3].ts: expected a unix time, got true; exchange skipped",
				`messages[4].ts: "1899-01-01T00:00:00Z" is not a plausible time`,
				`messages[6]: expected an object, got the text "not an object"; exchange skipped`,
				`messages[7].message: expected text, got the number 42; imported as "42"`,
			}},
		{"messages not an array", "", `{"messages": {"ts": 1}}`, nil,
			[]string{"messages: expected an array, got an object; history not imported"}},
		{"another shape's history", "s", `{"shape_id": "t", "messages": [{"ts": 1649472667, "message": "x"}]}`, nil,
			[]string{`shape_id: belongs to shape "t", not to this personality ("s"); history not imported`}},
		{"truncated", "s", `{"shape_id": "s", "messages": [{"ts": 16`, nil,
			[]string{": truncated: the JSON stops mid-value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			turns, problems := parseHistory(path, c.shapeID, []byte(c.data))
			if !slices.Equal(turns, c.turns) {
				t.Errorf("turns = %v\nwant    %v", turns, c.turns)
			}
			if len(problems) != len(c.want) {
				t.Errorf("problems = %v, want %d", problems, len(c.want))
				return
			}
			for i, p := range problems {
				if got := p.Field + ": " + p.Message; p.Path != path || !strings.HasPrefix(got, c.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, c.want[i])
				}
			}
		})
	}
}

// FuzzParsePersonality holds the single-file parser to its promises on any
// input: no panic; every problem names the file and is one line; whatever
// is imported is importable (a valid name, valid parameters, voice sliders
// and birthday in range, no NUL for Postgres to choke on).
func FuzzParsePersonality(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, PersonalitiesDir, "*", "*.json"))
	for _, name := range files[:min(len(files), 6)] {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "{}", "null", "[]", `"x"`, "{", `{"username": "x-1"`, "<html>",
		`{"username": "x-1", "birthday": "02-30", "engine_temperature": 5, "voice_id": "v", "voice_stability": 1.7}`,
		`{"username": "x-1", "birthday": "sometime in spring", "personality_age": 870, "engine_top_p": "0.9"}`,
		`{"username": "x-1", "engine_top_k": 1e300, "engine_min_p": -0, "voice_id": 5, "avatar": "http://"}`,
		`{"username": "x-1", "jailbreak": "\u0000", "name": [1], "birthday": "9999-12-31"}`,
		`{"username": "x-1", "username": "y-2"}`,
		strings.Repeat(`{"a":`, 20000),
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "personalities/x-1/x-1.json"
		p, problems, ok := parsePersonality(path, "", data)
		for _, pr := range problems {
			if pr.Path != path || pr.Message == "" || strings.ContainsAny(pr.Message, "\r\n") {
				t.Fatalf("bad problem %#v", pr)
			}
		}
		if !ok {
			if len(problems) == 0 {
				t.Fatal("rejected without a problem")
			}
			return
		}
		if !slugPattern.MatchString(p.Name) {
			t.Fatalf("imported name %q", p.Name)
		}
		if err := p.Params.Validate(); err != nil {
			t.Fatalf("imported invalid params: %v", err)
		}
		if v := p.Voice; v != nil {
			if v.VoiceID == "" || v.Model == "" {
				t.Fatalf("voice %+v", v)
			}
			for _, s := range []*float64{v.Stability, v.Similarity, v.Style, v.Frequency} {
				if s != nil && !(*s >= 0 && *s <= 1) {
					t.Fatalf("slider %v", *s)
				}
			}
		}
		if p.BirthMonth != 0 || p.BirthDay != 0 || p.BirthYear != 0 {
			y := p.BirthYear
			if y == 0 {
				y = 2000
			}
			d := time.Date(y, time.Month(p.BirthMonth), p.BirthDay, 0, 0, 0, 0, time.UTC)
			if p.BirthMonth == 0 || int(d.Month()) != p.BirthMonth || d.Day() != p.BirthDay {
				t.Fatalf("impossible birthday %d-%d-%d", p.BirthYear, p.BirthMonth, p.BirthDay)
			}
		}
		texts := []string{p.ShapeID, p.DisplayName, p.AvatarURL, p.SystemPrompt, p.CharacterInfo, p.ErrorMessage, p.Model}
		for _, v := range p.Card {
			texts = append(texts, v)
		}
		for _, s := range texts {
			if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
				t.Fatalf("text %q cannot be stored", s)
			}
		}
	})
}

// FuzzParseHistory: no panic, one-line problems, and every turn is
// storable and in time order.
func FuzzParseHistory(f *testing.F) {
	for _, s := range []string{
		`{"shape_id": "s", "messages": [{"ts": 1649472667, "message": "a", "reply": "b"}]}`,
		`{"messages": [{"ts": "yesterday", "message": "a"}, {"ts": 1e30, "reply": "b"}, 5]}`,
		`{"messages": [{"ts": "2022-04-09T02:51:07.123456789+05:00", "message": "a"}]}`,
		`{"messages": {}}`, `{"shape_id": 5}`, "{", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		turns, problems := parseHistory("h.json", "s", data)
		for _, pr := range problems {
			if pr.Path != "h.json" || pr.Message == "" || strings.ContainsAny(pr.Message, "\r\n") {
				t.Fatalf("bad problem %#v", pr)
			}
		}
		for i, tr := range turns {
			if (tr.Role != RoleUser && tr.Role != RoleAssistant) || strings.TrimSpace(tr.Content) == "" ||
				strings.ContainsRune(tr.Content, 0) || tr.At.Before(earliestTurn) || !tr.At.Before(latestTurn) {
				t.Fatalf("turn %d unstorable: %+v", i, tr)
			}
			if i > 0 && tr.At.Before(turns[i-1].At) {
				t.Fatalf("turns out of order at %d", i)
			}
		}
	})
}

// FuzzParseRegistry: no panic on any registry, one-line problems, and the
// assignment's promise: each alias has one owner regardless of case, and
// none is another personality's name.
func FuzzParseRegistry(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(fixtureRoot, RegistryFile)); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		`{"personalities": {"a": {"fullName": "x-1", "aliases": ["Y-2", "Z", {"value": "z", "originalCase": "Z"}]},
		  "b": {"fullName": "y-2", "aliases": [{"value": "z"}, {"originalCase": "X-1"}]}}, "aliases": {"z": "b", "Q": "nobody"}}`,
		`{"personalities": [], "aliases": []}`, `{"personalities": {"a": 5}}`, `{"aliases": {"x": 1}}`, "{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &report{path: RegistryFile}
		reg, ok := parseRegistry(r, data, "ignored")
		problems := r.list
		ps := []*Personality{{Name: "x-1", ShapeID: "a"}, {Name: "y-2", ShapeID: "b"}, {Name: "z-3"}}
		if ok {
			problems = append(problems, assignAliases(reg, ps, map[string]bool{"x-1": true, "y-2": true, "z-3": true, "w-4": true})...)
		}
		for _, pr := range problems {
			if pr.Message == "" || strings.ContainsAny(pr.Message+pr.Field, "\r\n") {
				t.Fatalf("bad problem %#v", pr)
			}
		}
		owners := map[string]string{}
		for _, p := range ps {
			for _, a := range p.Aliases {
				k := strings.ToLower(a)
				if prev, dup := owners[k]; dup {
					t.Fatalf("alias %q owned by %s and %s", a, prev, p.Name)
				}
				owners[k] = p.Name
				if k == "x-1" || k == "y-2" || k == "z-3" || k == "w-4" || !validAlias(a) {
					t.Fatalf("alias %q given to %s", a, p.Name)
				}
			}
		}
	})
}
