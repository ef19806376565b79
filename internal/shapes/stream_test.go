package shapes

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// LoadWith(SkipHistory) loads everything but the histories, and
// StreamHistory then yields, for every personality, the same turns (in file
// order rather than time order) and the same problems that Load gives.
func TestStreamHistoryMatchesLoad(t *testing.T) {
	loadFixture(t)
	compared := 0
	for _, root := range []string{fixtureRoot, messyTree(t)} {
		compared += compareStreamWithLoad(t, root)
	}
	if compared == 0 {
		t.Fatal("no history problems were compared")
	}
}

func compareStreamWithLoad(t *testing.T, root string) int {
	full, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	light, err := LoadWith(root, LoadOptions{SkipHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(light.Personalities) != len(full.Personalities) {
		t.Fatalf("%d personalities without history, %d with", len(light.Personalities), len(full.Personalities))
	}
	var histProblems []Problem
	for _, p := range full.Problems {
		if strings.HasSuffix(p.Path, "_chat_history.json") {
			histProblems = append(histProblems, p)
		}
	}
	var streamed []Problem
	for i, p := range light.Personalities {
		f := full.Personalities[i]
		if p.History != nil || p.HistoryPath != f.HistoryPath {
			t.Errorf("%s: history %d turns, path %q (want %q)", p.Name, len(p.History), p.HistoryPath, f.HistoryPath)
		}
		var got []Turn
		pp, err := StreamHistory(root, p, func(tu Turn) error { got = append(got, tu); return nil })
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, pp...)
		slices.SortStableFunc(got, func(a, b Turn) int { return a.At.Compare(b.At) })
		if !slices.Equal(got, f.History) {
			t.Errorf("%s: streamed %d turns, Load has %d", p.Name, len(got), len(f.History))
		}
	}
	sortProblems(streamed)
	if !slices.Equal(streamed, histProblems) {
		t.Errorf("streamed problems differ:\n%v\nLoad:\n%v", streamed, histProblems)
	}
	for _, p := range light.Problems {
		if strings.HasSuffix(p.Path, "_chat_history.json") {
			t.Errorf("SkipHistory reported a history problem: %v", p)
		}
	}
	return len(histProblems)
}

// The file-level faults of a history file: each emits nothing and is one
// Unreadable problem, with the same text decodeObject gives other files.
func TestStreamHistoryWholeFileFaults(t *testing.T) {
	cases := map[string]string{
		"":                        "empty file",
		"  \n":                    "empty file",
		`{"messages": [{"ts": 16`: "truncated: the JSON stops mid-value",
		`{"messages": [{"ts": 1649472667, "message": "x"}`: "truncated: the JSON stops mid-value",
		`{"messages": "a`:              "truncated: the JSON stops mid-value",
		`<html>`:                       "not JSON (invalid character '<'",
		`{"messages": []} {}`:          "not JSON: more data after the value that ends at byte 16",
		`[{"ts": 1649472667}]`:         "expected a JSON object, got an array",
		`"text"`:                       `expected a JSON object, got the text "text"`,
		"\xef\xbb\xbf{\"messages\": [": "truncated: the JSON stops mid-value at byte 14",
	}
	for data, want := range cases {
		emitted := 0
		problems, err := streamHistory("h.json", "s", openBytes(data), func(Turn) error { emitted++; return nil })
		if err != nil || emitted != 0 || len(problems) != 1 || !strings.HasPrefix(problems[0].Message, want) ||
			!strings.HasSuffix(problems[0].Message, "; history not imported") || problems[0].Severity() != Unreadable {
			t.Errorf("%q: %v %v, %d turns; want %q", data, problems, err, emitted, want)
		}
	}
	// A BOM is not a fault; the last of repeated keys counts, as in Load.
	turns, problems := parseHistory("h.json", "s", []byte("\xef\xbb\xbf"+`{"messages": [{"ts": 1, "message": "old"}], "shape_id": "t", "shape_id": "s",
 "messages": [{"ts": 1649472667, "message": "new"}]}`))
	if len(problems) != 0 || len(turns) != 1 || turns[0].Content != "new" {
		t.Errorf("repeated keys: %v %v", turns, problems)
	}
}

func openBytes(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// A 12,000-exchange history (about 10 MB) streams in far less memory than
// its size: the file is never held whole.
func TestStreamHistoryLargeFileBoundedMemory(t *testing.T) {
	root := t.TempDir()
	rel := "personalities/big/big_chat_history.json"
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := strings.Repeat("x", 400)
	_, _ = w.WriteString(`{"shape_id": "s", "messages": [`) // a bufio error surfaces at Flush
	const n = 12000
	for i := range n {
		if i > 0 {
			_, _ = w.WriteString(",")
		}
		fmt.Fprintf(w, `{"ts": %d, "message": "m%d %s", "reply": "r%d %s"}`, 1649472667+i, i, pad, i, pad)
	}
	_, _ = w.WriteString("]}")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(path)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	count := 0
	last := time.Time{}
	problems, err := StreamHistory(root, Personality{ShapeID: "s", HistoryPath: rel}, func(tu Turn) error {
		if tu.At.Before(last) {
			return fmt.Errorf("turn %d out of file order", count)
		}
		last = tu.At
		count++
		if count%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil || len(problems) != 0 || count != 2*n {
		t.Fatalf("%d turns, %v, %v", count, problems, err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("file %d MB, heap grew by at most %d KB", fi.Size()>>20, grew>>10)
	if grew > fi.Size()/2 {
		t.Errorf("the heap grew by %d bytes streaming a %d-byte file", grew, fi.Size())
	}
}

// Problems rank by what was lost: a whole file, one value, or a claim.
func TestProblemSeverity(t *testing.T) {
	b, err := Load(messyTree(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Severity]int{}
	for _, p := range b.Problems {
		s := p.Severity()
		seen[s]++
		switch {
		case p.Field == "" && s != Unreadable,
			strings.Contains(p.Message, " is claimed by ") && s != Collision,
			strings.Contains(p.Message, "is not a real date") && s != Refused:
			t.Errorf("%v ranked %d", p, s)
		}
	}
	if seen[Unreadable] == 0 || seen[Refused] == 0 || seen[Collision] == 0 {
		t.Errorf("the fixtures' problems by severity: %v", seen)
	}
}
