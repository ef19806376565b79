package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The README's layout block names every package of the module (a package
// under a listed folder counts, as internal/fakes/discord does under
// internal/fakes/), so a newcomer finds any code from it; ent's generated
// packages are ent/'s.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Layout\n.*?```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no code block under ## Layout")
	}
	var listed []string
	for _, line := range strings.Split(string(m[1]), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(line, " ") {
			listed = append(listed, strings.TrimSuffix(f[0], "/"))
		}
	}
	out, err := exec.Command("go", "list", "-tags", "integration e2e dev", "github.com/tzurot/tzurot/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, "github.com/tzurot/tzurot"), "/")
		if rel == "ent" || strings.HasPrefix(rel, "ent/") {
			continue
		}
		found := false
		for _, l := range listed {
			if rel == l || strings.HasPrefix(rel, l+"/") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md's layout does not name %s", rel)
		}
	}
	for _, l := range listed {
		if _, err := os.Stat("../../" + l); err != nil {
			t.Errorf("README.md's layout names %s, which does not exist", l)
		}
	}
}
