package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every environment variable the tree reads is either declared in Config (and
// so in the generated tables) or listed in the hand-kept "Read outside
// internal/config" tables of README.md and docs/contract.md.
func TestEveryVariableReadIsDocumented(t *testing.T) {
	declared := map[string]bool{}
	for _, v := range Declared() {
		declared[v.Name] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	contract, err := os.ReadFile("../../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	getenv := regexp.MustCompile(`(?:Getenv|LookupEnv)\("([A-Z0-9_]+)"\)`)
	read := map[string]string{}
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "ent" || d.Name() == ".data" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".git")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range getenv.FindAllSubmatch(src, -1) {
			read[string(m[1])] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(read) < 5 {
		t.Fatalf("found only %d variables read: the scan is broken", len(read))
	}
	for name, where := range read {
		if declared[name] {
			continue
		}
		for doc, text := range map[string][]byte{"README.md": readme, "docs/contract.md": contract} {
			if !strings.Contains(string(text), "`"+name+"`") {
				t.Errorf("%s reads %s, which is neither declared in internal/config nor listed in %s", where, name, doc)
			}
		}
	}
}
