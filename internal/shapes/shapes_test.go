package shapes

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureRoot is the generated backup in shared/ beside the clone (as CI
// checks it out), or SHAPES_FIXTURES.
var fixtureRoot = func() string {
	if d := os.Getenv("SHAPES_FIXTURES"); d != "" {
		return d
	}
	return "../../../shared/fixtures/shapes-backup"
}()

func loadFixture(t *testing.T) *Backup {
	t.Helper()
	if _, err := os.Stat(fixtureRoot); err != nil {
		t.Fatalf("the shapes fixtures are not at %s (shared/ beside the clone): set SHAPES_FIXTURES to their path", fixtureRoot)
	}
	b, err := Load(fixtureRoot)
	if err != nil {
		t.Fatalf("Load(%s): %v", fixtureRoot, err)
	}
	return b
}

func byName(b *Backup, name string) *Personality {
	for i := range b.Personalities {
		if b.Personalities[i].Name == name {
			return &b.Personalities[i]
		}
	}
	return nil
}

func TestLoadFixture(t *testing.T) {
	b := loadFixture(t)

	if got := len(b.Personalities); got != 66 {
		t.Fatalf("got %d personalities, want 66", got)
	}
	if !slices.IsSortedFunc(b.Personalities, func(x, y Personality) int { return strings.Compare(x.Name, y.Name) }) {
		t.Error("personalities are not sorted by name")
	}
	if b.Metadata.Personalities != 66 || b.Metadata.Source != "shapes.inc" {
		t.Errorf("metadata = %+v", b.Metadata)
	}

	// The fixture is clean apart from alias collisions: 21 shared aliases,
	// 38 losing claims.
	if got := len(b.Problems); got != 38 {
		t.Errorf("got %d problems, want 38", got)
	}
	for _, p := range b.Problems {
		if p.Path != RegistryFile || !strings.Contains(p.Message, " is claimed by ") {
			t.Errorf("unexpected problem: %s", p)
		}
	}
	checkProblemsSorted(t, b.Problems)

	collisions := []struct {
		field, message string
	}{
		{"personalities.d54969a4-b0e4-f3fa-38a5-6621dfde98ef.aliases[1]",
			`alias "Kerach" is claimed by kerach-juniper-37 and kerach-nyx-53; kerach-juniper-37 keeps it (first in the registry)`},
		{"personalities.41924de5-65d7-896d-00e3-cd59f0f2f4fe.aliases[1]",
			`alias "Kerach" is claimed by kerach-juniper-37 and kerach-selene-63; kerach-juniper-37 keeps it (first in the registry)`},
		{"personalities.17124262-6543-a8f0-5c44-162f9681c9f8.aliases[2]",
			`alias "Rune Halcyon" is claimed by rune-halcyon-56 and rune-halcyon-65; rune-halcyon-56 keeps it (first in the registry)`},
		{"personalities.5eae4820-1111-b800-3f16-e5617f9a3956.aliases[1]",
			`alias "Tzurot" is claimed by tzurot-orin-0 and tzurot-vesper-32; tzurot-orin-0 keeps it (first in the registry)`},
	}
	for _, c := range collisions {
		if !slices.Contains(b.Problems, Problem{RegistryFile, c.field, c.message}) {
			t.Errorf("missing problem %s: %s", c.field, c.message)
		}
	}

	// Every alias has exactly one owner, case-insensitively, and none is
	// anyone's name.
	owner := map[string]string{}
	names := map[string]bool{}
	for _, p := range b.Personalities {
		names[p.Name] = true
	}
	turns := 0
	for _, p := range b.Personalities {
		turns += len(p.History)
		for _, a := range p.Aliases {
			k := strings.ToLower(a)
			if prev, dup := owner[k]; dup {
				t.Errorf("alias %q owned by %s and %s", a, prev, p.Name)
			}
			owner[k] = p.Name
			if names[k] {
				t.Errorf("alias %q of %s is a personality name", a, p.Name)
			}
		}
		if err := p.Params.Validate(); err != nil {
			t.Errorf("%s: params invalid: %v", p.Name, err)
		}
		if p.ShapeID == "" || p.Model == "" || p.SourcePath != "personalities/"+p.Name+"/"+p.Name+".json" {
			t.Errorf("%s: id %q, model %q, source %q", p.Name, p.ShapeID, p.Model, p.SourcePath)
		}
	}
	// 210 exchanges in the fixture, none empty.
	if turns != 420 {
		t.Errorf("got %d turns, want 420", turns)
	}

	cases := []struct {
		name    string
		check   func(p *Personality) bool
		explain string
	}{
		{"kerach-juniper-37", func(p *Personality) bool { return slices.Contains(p.Aliases, "Kerach") }, "keeps Kerach"},
		{"kerach-nyx-53", func(p *Personality) bool { return !slices.Contains(p.Aliases, "Kerach") }, "loses Kerach"},
		{"tzurot-orin-0", func(p *Personality) bool { return slices.Equal(p.Aliases, []string{"Tzurot"}) }, "aliases are [Tzurot] (own name dropped)"},
		{"batuach-nyx-1", func(p *Personality) bool { return slices.Equal(p.Aliases, []string{"Batuach", "Batuach Nyx"}) }, "keeps the original case"},
		{"ash-orin-17", func(p *Personality) bool {
			return p.DisplayName == "Ash Orin" && p.SystemPrompt == "You are Ash Orin. Stay in character." &&
				p.CharacterInfo == "Ash Orin is a character who likes wren.\n\nLong ago..." &&
				p.Card["personality_age"] == "870" && p.Card["conversational_examples"] == "User: hi\nBot: hello" &&
				p.Card["conversational_goals"] == "help" && len(p.Card) == 8 &&
				p.ErrorMessage == "My thoughts scattered like starlings — ask me again?" &&
				p.Model == "meta-llama/llama-3.3-70b-instruct:free" &&
				*p.Params.Temperature == 1.12 && *p.Params.TopK == 40 && *p.Params.TopA == 0
		}, "maps every field"},
		{"ash-orin-17", func(p *Personality) bool {
			v := p.Voice
			return v != nil && v.VoiceID == "voice5379" && v.Model == DefaultVoiceModel &&
				*v.Stability == 0.41 && *v.Similarity == 0.43 && *v.Style == 0.19 && *v.Frequency == 0.86
		}, "has its voice"},
		{"aster-sable-21", func(p *Personality) bool { return p.BirthYear == 1984 && p.BirthMonth == 7 && p.BirthDay == 15 }, "birthday 1984-07-15"},
		{"aster-cold-59", func(p *Personality) bool { return p.BirthYear == 0 && p.BirthMonth == 10 && p.BirthDay == 17 }, "birthday 10-17"},
		{"aster-cold-59", func(p *Personality) bool {
			h := p.History
			return len(h) == 4 && h[0].Role == RoleUser && h[0].Content == "hello 0" && h[1].Role == RoleAssistant &&
				h[1].Content == "reply 0" && h[0].At.Equal(time.Unix(1649472667, 0)) && h[0].At.Location() == time.UTC
		}, "history in order"},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.explain, func(t *testing.T) {
			p := byName(b, c.name)
			if p == nil {
				t.Fatalf("%s not imported", c.name)
			}
			if !c.check(p) {
				t.Errorf("%s: want %s; got %+v", c.name, c.explain, *p)
			}
		})
	}
}

func checkProblemsSorted(t *testing.T, ps []Problem) {
	t.Helper()
	for i := 1; i < len(ps); i++ {
		a, b := ps[i-1], ps[i]
		if c := naturalCompare(a.Path, b.Path); c > 0 || (c == 0 && naturalCompare(a.Field, b.Field) > 0) {
			t.Errorf("problems out of order: %s before %s", a, b)
		}
	}
	for _, p := range ps {
		if p.Message == "" || strings.ContainsAny(p.Message, "\r\n") {
			t.Errorf("problem %q is not one line", p.Message)
		}
	}
}

// tree writes files (relative path → content) under a fresh directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	alphaID = "aaaaaaaa-0000-0000-0000-000000000001"
	betaID  = "bbbbbbbb-0000-0000-0000-000000000002"
	gammaID = "cccccccc-0000-0000-0000-000000000003"
	truncID = "dddddddd-0000-0000-0000-000000000004"
	htmlID  = "eeeeeeee-0000-0000-0000-000000000005"
)

func shape(id, slug string, extra map[string]any) map[string]any {
	m := map[string]any{
		"id": id, "name": strings.ToUpper(slug[:1]) + slug[1:], "username": slug,
		"avatar":    "https://files.shapes.inc/api/files/avatar_" + id + ".png",
		"jailbreak": "You are " + slug + ".", "user_prompt": "A character.",
		"personality_traits": "dry", "engine_model": "openai/gpt-4o",
		"engine_temperature": 0.8, "engine_top_k": 40, "error_message": "oops",
		"keywords": []string{"x"}, "shape_settings": map[string]any{"a": 1}, // no column: ignored silently
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func alias(v string) map[string]any {
	return map[string]any{"value": strings.ToLower(v), "originalCase": v}
}

func messyTree(t *testing.T) string {
	registry := map[string]any{
		"personalities": map[string]any{
			alphaID: map[string]any{"id": alphaID, "fullName": "alpha-one-1", "displayName": "Alpha",
				"aliases": []any{alias("alpha-one-1"), alias("Alpha")}},
			betaID: map[string]any{"id": betaID, "fullName": "beta-two-2", "displayName": "Beta",
				"aliases": []any{alias("beta-two-2"), alias("Alpha"), alias("Gamma-Three-3"), alias("Beta")}},
			gammaID: map[string]any{"id": gammaID, "fullName": "gamma-three-3", "displayName": "Gamma",
				"aliases": []any{alias("gamma-three-3"), alias("Gamma")}},
			truncID: map[string]any{"id": truncID, "fullName": "trunc-four-4", "aliases": []any{alias("Trunc")}},
			htmlID:  map[string]any{"id": htmlID, "fullName": "html-five-5", "aliases": []any{alias("Html")}},
		},
		"aliases": map[string]any{
			"alpha-one-1": alphaID, "alpha": alphaID, "beta-two-2": betaID, "gamma-three-3": gammaID,
			"beta": betaID, "gamma": gammaID, "trunc": truncID, "html": htmlID,
		},
	}
	alpha := shape(alphaID, "alpha-one-1", map[string]any{
		"birthday":           "02-30",
		"engine_temperature": 5,
		"engine_top_p":       "0.9",
		"personality_age":    870,
		"voice_id":           "voice1", "voice_stability": 1.7, "voice_similarity": 0.5,
	})
	history := map[string]any{
		"shape_id": alphaID,
		"messages": []any{
			map[string]any{"ts": 1649472667, "message": "hello", "reply": "hi there"},
			map[string]any{"ts": "yesterday", "message": "lost", "reply": "also lost"},
			map[string]any{"ts": 1649472767, "message": "", "reply": "talking to myself"},
			map[string]any{"ts": "never", "message": " ", "reply": nil},
		},
	}
	full := mustJSON(t, shape(truncID, "trunc-four-4", nil))
	return tree(t, map[string]string{
		RegistryFile: mustJSON(t, registry),
		"personalities/alpha-one-1/alpha-one-1.json":              mustJSON(t, alpha),
		"personalities/alpha-one-1/alpha-one-1_chat_history.json": mustJSON(t, history),
		"personalities/beta-two-2/beta-two-2.json":                mustJSON(t, shape(betaID, "beta-two-2", map[string]any{"birthday": "sometime in spring"})),
		"personalities/gamma-three-3/gamma-three-3.json":          mustJSON(t, shape(gammaID, "gamma-three-3", map[string]any{"birthday": "1990-02-28"})),
		"personalities/trunc-four-4/trunc-four-4.json":            full[:len(full)/2],
		"personalities/html-five-5/html-five-5.json":              "<html><body>502 Bad Gateway</body></html>",
	})
}

func TestLoadMessy(t *testing.T) {
	b, err := Load(messyTree(t))
	if err != nil {
		t.Fatal(err)
	}
	const (
		alphaFile = "personalities/alpha-one-1/alpha-one-1.json"
		alphaHist = "personalities/alpha-one-1/alpha-one-1_chat_history.json"
		betaFile  = "personalities/beta-two-2/beta-two-2.json"
	)
	want := []struct {
		path, field, message string // message: a substring
	}{
		{alphaFile, "birthday", `birthday "02-30" is not a real date; imported without a birthday`},
		{alphaFile, "engine_temperature", "temperature 5 is out of range, allowed 0 to 2; left unset"},
		{alphaFile, "engine_top_p", `expected a number, got the text "0.9"; read as 0.9`},
		{alphaFile, "personality_age", `expected text, got the number 870; imported as "870"`},
		{alphaFile, "voice_stability", "1.7 is outside 0..1; the default applies"},
		{alphaHist, "messages[1].ts", `"yesterday" is not a unix time or an RFC 3339 time; exchange skipped`},
		{betaFile, "birthday", `birthday "sometime in spring" is not a date (MM-DD or YYYY-MM-DD); imported without a birthday`},
		{RegistryFile, "personalities." + betaID + ".aliases[1]",
			`alias "Alpha" is claimed by alpha-one-1 and beta-two-2; alpha-one-1 keeps it (first in the registry)`},
		{RegistryFile, "personalities." + betaID + ".aliases[2]",
			`alias "Gamma-Three-3" is the name of another personality, gamma-three-3; skipped`},
		{"personalities/html-five-5/html-five-5.json", "", "not JSON (invalid character '<'"},
		{"personalities/trunc-four-4/trunc-four-4.json", "", "truncated: the JSON stops mid-value"},
	}
	got := slices.Clone(b.Problems)
	for _, w := range want {
		i := slices.IndexFunc(got, func(p Problem) bool {
			return p.Path == w.path && p.Field == w.field && strings.Contains(p.Message, w.message)
		})
		if i < 0 {
			t.Errorf("missing problem %s: %s: %s", w.path, w.field, w.message)
			continue
		}
		got = slices.Delete(got, i, i+1)
	}
	for _, p := range got {
		t.Errorf("unexpected problem: %s", p)
	}
	checkProblemsSorted(t, b.Problems)

	var names []string
	for _, p := range b.Personalities {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"alpha-one-1", "beta-two-2", "gamma-three-3"}) {
		t.Fatalf("imported %v", names)
	}

	alpha, beta, gamma := byName(b, "alpha-one-1"), byName(b, "beta-two-2"), byName(b, "gamma-three-3")
	ts := time.Unix(1649472667, 0).UTC()
	checks := []struct {
		what string
		ok   bool
	}{
		{"alpha has no birthday", alpha.BirthMonth == 0 && alpha.BirthDay == 0 && alpha.BirthYear == 0},
		{"alpha keeps its other fields", alpha.DisplayName == "Alpha-one-1" && alpha.SystemPrompt == "You are alpha-one-1." &&
			alpha.ErrorMessage == "oops" && alpha.Model == "openai/gpt-4o" && alpha.Card["personality_traits"] == "dry"},
		{"alpha's age is converted", alpha.Card["personality_age"] == "870"},
		{"alpha's temperature is dropped alone", alpha.Params.Temperature == nil && alpha.Params.TopK != nil && *alpha.Params.TopK == 40},
		{"alpha's top_p text is read", alpha.Params.TopP != nil && *alpha.Params.TopP == 0.9},
		{"alpha's voice keeps the good sliders", alpha.Voice != nil && alpha.Voice.Stability == nil &&
			alpha.Voice.Similarity != nil && *alpha.Voice.Similarity == 0.5 && alpha.Voice.Model == DefaultVoiceModel},
		{"alpha keeps its alias", slices.Equal(alpha.Aliases, []string{"Alpha"})},
		{"alpha's good exchanges are imported", slices.Equal(alpha.History, []Turn{
			{RoleUser, "hello", ts}, {RoleAssistant, "hi there", ts},
			{RoleAssistant, "talking to myself", ts.Add(100 * time.Second)},
		})},
		{"beta has no birthday but the rest", beta.BirthMonth == 0 && beta.Model == "openai/gpt-4o"},
		{"beta keeps only its uncontested alias", slices.Equal(beta.Aliases, []string{"Beta"})},
		{"gamma is clean", gamma.BirthYear == 1990 && gamma.BirthMonth == 2 && gamma.BirthDay == 28 &&
			slices.Equal(gamma.Aliases, []string{"Gamma"}) && gamma.History == nil && gamma.Voice == nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s", c.what)
		}
	}
}

func TestLoadRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		root    string
		wantErr bool
	}{
		{"missing root", filepath.Join(t.TempDir(), "nope"), true},
		{"root is a file", file, true},
		{"no personalities directory", t.TempDir(), true},
		{"empty backup", tree(t, map[string]string{"personalities/.keep": ""}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Load(c.root)
			if (err != nil) != c.wantErr {
				t.Fatalf("Load: err = %v, want error %v", err, c.wantErr)
			}
			if err == nil && (len(b.Personalities) != 0 || len(b.Problems) != 1 || b.Problems[0].Path != RegistryFile) {
				t.Errorf("empty backup: %+v", b)
			}
		})
	}
}

// TestLoadEdges covers the registry and tree shapes the fixture never has.
func TestLoadEdges(t *testing.T) {
	good := func(id, slug string, extra map[string]any) string { return mustJSON(t, shape(id, slug, extra)) }
	cases := []struct {
		name  string
		files map[string]string
		want  []Problem // message prefixes
		names []string
	}{
		{
			name: "no registry",
			files: map[string]string{
				"personalities/alpha-one-1/alpha-one-1.json": good(alphaID, "alpha-one-1", nil),
			},
			want:  []Problem{{RegistryFile, "", "missing; personalities imported without aliases"}},
			names: []string{"alpha-one-1"},
		},
		{
			name: "registry lists a missing directory, history of another shape",
			files: map[string]string{
				RegistryFile: "{\"personalities\": {\"" + gammaID + "\": {\"fullName\": \"gamma-three-3\"}}, \"aliases\": {}}",
				"personalities/alpha-one-1/alpha-one-1.json":              good(alphaID, "alpha-one-1", nil),
				"personalities/alpha-one-1/alpha-one-1_chat_history.json": `{"shape_id": "` + betaID + `", "messages": [{"ts": 1649472667, "message": "x"}]}`,
				"personalities/beta-two-2/notes.txt":                      "not a personality",
			},
			want: []Problem{
				{RegistryFile, "personalities." + gammaID, `lists "gamma-three-3", which has no directory under personalities/`},
				{"personalities/alpha-one-1/alpha-one-1.json", "id", "not in personalities.json; imported without aliases"},
				{"personalities/alpha-one-1/alpha-one-1_chat_history.json", "shape_id", `belongs to shape "` + betaID + `"`},
				{"personalities/beta-two-2/beta-two-2.json", "", "missing; personality not imported"},
			},
			names: []string{"alpha-one-1"},
		},
		{
			name: "duplicate username and bad name",
			files: map[string]string{
				RegistryFile: `{"personalities": {}, "aliases": {}}`,
				"personalities/alpha-one-1/alpha-one-1.json": good(alphaID, "alpha-one-1", nil),
				"personalities/alpha-two-2/alpha-two-2.json": good(betaID, "alpha-one-1", nil),
				"personalities/Bad Name/Bad Name.json":       good(gammaID, "Bad Name", nil),
			},
			want: []Problem{
				{"personalities/Bad Name/Bad Name.json", "username", `"Bad Name" is not a valid name`},
				{"personalities/alpha-one-1/alpha-one-1.json", "id", "not in personalities.json"},
				{"personalities/alpha-two-2/alpha-two-2.json", "username", `"alpha-one-1" differs from the directory name "alpha-two-2"`},
				{"personalities/alpha-two-2/alpha-two-2.json", "username", `"alpha-one-1" is also the username in personalities/alpha-one-1/alpha-one-1.json`},
			},
			names: []string{"alpha-one-1"},
		},
		{
			name: "alias map names a stranger, metadata disagrees",
			files: map[string]string{
				MetadataFile: `{"created": "2025-10-01T00:00:00Z", "personalities": 2, "source": "shapes.inc"}`,
				RegistryFile: mustJSON(t, map[string]any{
					"personalities": map[string]any{
						alphaID: map[string]any{"fullName": "alpha-one-1", "aliases": []any{"Shared", alias("Al@pha")}},
						betaID:  map[string]any{"fullName": "beta-two-2", "aliases": []any{alias("shared"), 7}},
					},
					"aliases": map[string]any{"shared": "ffffffff-0000-0000-0000-000000000000"},
				}),
				"personalities/alpha-one-1/alpha-one-1.json": good(alphaID, "alpha-one-1", nil),
			},
			want: []Problem{
				{MetadataFile, "personalities", "says 2 personalities but the backup has 1 personality directories"},
				{RegistryFile, "aliases.shared", `gives "shared" to shape "ffffffff-0000-0000-0000-000000000000", which is not in the backup; alpha-one-1 keeps it`},
				{RegistryFile, "personalities." + alphaID + ".aliases[1]", `"Al@pha" cannot be an alias`},
				{RegistryFile, "personalities." + betaID, `lists "beta-two-2", which has no directory`},
				{RegistryFile, "personalities." + betaID + ".aliases[0]", `alias "shared" is claimed by alpha-one-1 and beta-two-2; alpha-one-1 keeps it (it lists it first`},
				{RegistryFile, "personalities." + betaID + ".aliases[1]", "expected an alias object, got the number 7; skipped"},
			},
			names: []string{"alpha-one-1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Load(tree(t, c.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Problems) != len(c.want) {
				t.Errorf("got %d problems, want %d:", len(b.Problems), len(c.want))
				for _, p := range b.Problems {
					t.Log(p)
				}
			}
			for i := range min(len(b.Problems), len(c.want)) {
				g, w := b.Problems[i], c.want[i]
				if g.Path != w.Path || g.Field != w.Field || !strings.HasPrefix(g.Message, w.Message) {
					t.Errorf("problem %d = %s\n              want %s: %s: %s...", i, g, w.Path, w.Field, w.Message)
				}
			}
			var names []string
			for _, p := range b.Personalities {
				names = append(names, p.Name)
			}
			if !slices.Equal(names, c.names) {
				t.Errorf("imported %v, want %v", names, c.names)
			}
		})
	}
}

func TestNaturalCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"messages[2].ts", "messages[10].ts", -1},
		{"messages[10].ts", "messages[9].ts", 1},
		{"messages[3].ts", "messages[3].ts", 0},
		{"messages[3]", "messages[3].ts", -1},
		{"personalities.06fa", "personalities.1d6e", -1}, // ids compare as text
		{"", "birthday", -1},
	}
	for _, c := range cases {
		if got := naturalCompare(c.a, c.b); got != c.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
