package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// README.md's "Data and migrations" list accounts for every file in
// migrations/: each NNNN_name it names is a file there (so a renumbered or
// renamed migration cannot stay listed under its old name), and each file's
// number is named, alone or inside a range like `0002`–`0011` (so a new
// migration cannot go unlisted).
func TestReadmeListsEveryMigration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\n## Data and migrations\n(.*?)\n### `).FindSubmatch(readme)
	if m == nil {
		t.Fatal(`README.md has no "## Data and migrations" section followed by a ### heading`)
	}
	section := string(m[1])
	entries, err := os.ReadDir("../../migrations")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}   // "0028_history_answered_user"
	numbers := map[string]bool{} // "0028"
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok || e.IsDir() {
			continue
		}
		files[name] = true
		numbers[name[:4]] = true
	}
	if len(files) == 0 {
		t.Fatal("migrations/ has no .sql file")
	}
	named := map[string]bool{}
	for _, n := range regexp.MustCompile("`(\\d{4})(_[a-z0-9_]+)?(?:\\.sql)?`").FindAllStringSubmatch(section, -1) {
		named[n[1]] = true
		if n[2] != "" && !files[n[1]+n[2]] {
			t.Errorf("README.md's migration list names %s, which is not a file in migrations/", n[1]+n[2])
		}
	}
	for _, r := range regexp.MustCompile("`(\\d{4})`[–-]`(\\d{4})`").FindAllStringSubmatch(section, -1) {
		lo, _ := strconv.Atoi(r[1])
		hi, _ := strconv.Atoi(r[2])
		for i := lo; i <= hi; i++ {
			named[strconv.Itoa(10000 + i)[1:]] = true
		}
	}
	for n := range numbers {
		if !named[n] {
			t.Errorf("README.md's migration list does not name migration %s (migrations/%s_*.sql)", n, n)
		}
	}
}
