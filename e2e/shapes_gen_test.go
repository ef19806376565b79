//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genShape is one personality of a generated shapes.inc backup.
type genShape struct {
	slug, id string
	// fields override or add to the personality file's fields.
	fields map[string]any
	// aliases the registry lists for it; owned says which of them the
	// registry's alias map gives to it (all of them when nil).
	aliases []string
	owned   map[string]bool
	// exchanges is how many chat exchanges its history has (no file when 0
	// and rawHistory is "").
	exchanges int
	// rawFile and rawHistory, when set, are written verbatim instead.
	rawFile, rawHistory string
}

// writeBackup writes a backup tree of shapes under root in the layout of
// the shared fixtures: personalities.json (entries and the alias map) and
// personalities/<slug>/<slug>.json and <slug>_chat_history.json.
func writeBackup(t testing.TB, root string, shapes []genShape) {
	t.Helper()
	entries := map[string]any{}
	aliasMap := map[string]string{}
	for _, s := range shapes {
		dir := filepath.Join(root, "personalities", s.slug)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var list []map[string]string
		for _, a := range s.aliases {
			list = append(list, map[string]string{"value": strings.ToLower(a), "originalCase": a})
			if s.owned == nil || s.owned[a] {
				aliasMap[strings.ToLower(a)] = s.id
			}
		}
		entries[s.id] = map[string]any{"id": s.id, "fullName": s.slug, "displayName": s.slug, "aliases": list}

		file := s.rawFile
		if file == "" {
			doc := map[string]any{
				"id": s.id, "name": "Name of " + s.slug, "username": s.slug,
				"jailbreak":    "You are " + s.slug + ".",
				"engine_model": "meta-llama/llama-3.3-70b-instruct:free",
			}
			for k, v := range s.fields {
				doc[k] = v
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			file = string(b)
		}
		writeFile(t, filepath.Join(dir, s.slug+".json"), file)
		hist := filepath.Join(dir, s.slug+"_chat_history.json")
		switch {
		case s.rawHistory != "":
			writeFile(t, hist, s.rawHistory)
		case s.exchanges > 0:
			writeHistory(t, hist, s.id, s.exchanges)
		}
	}
	reg, err := json.MarshalIndent(map[string]any{"personalities": entries, "aliases": aliasMap}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "personalities.json"), string(reg))
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// historyText pads each side of an exchange so that 12,000 exchanges make
// about 10 MB, the size of the history that stalled the import.
var historyText = strings.Repeat("and then the lantern flickered, ", 13)

// writeHistory streams n exchanges (a user message and a reply each, a
// minute apart) to path.
func writeHistory(t testing.TB, path, shapeID string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, `{"shape_id": %q, "message_count": %d, "messages": [`, shapeID, n)
	for i := range n {
		if i > 0 {
			_, _ = w.WriteString(",\n") // a bufio.Writer keeps its first error for Flush, checked below
		}
		fmt.Fprintf(w, `{"ts": %d, "message": "message %d %s", "reply": "reply %d %s"}`, 1649472667+60*i, i, historyText, i, historyText)
	}
	_, _ = w.WriteString("]}\n") // likewise
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
