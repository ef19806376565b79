//go:build integration

package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
)

// temporalCommand is a `temporal …` command line as the docs or a message
// name it: the subcommand path, then its flags.
var temporalCommand = regexp.MustCompile(`(?:^|[^a-z/])(?:bin/)?temporal((?: (?:operator|schedule|workflow|server|task-queue|config|env|batch|activity|search-attribute|namespace|cluster|[a-z]+-[a-z-]+|describe|list|create|update|remove|delete|execute|start|start-dev|pause|unpause|trigger|get|set|show|query|signal|terminate|cancel|reset|count|result))+)([^` + "`" + `"\n)]*)`)

// Every `temporal …` command README.md, docs/ and the code's messages name
// exists in the CLI tzurot is tested with (bin/temporal), with each flag
// they give it: an operator who copies one is not told "unknown flag".
func TestNamedTemporalCommandsExist(t *testing.T) {
	cli, err := itest.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var sources []string
	_ = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "ent" || name == "bin" || name == ".data" || (strings.HasPrefix(name, ".") && name != ".." && name != ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(name, ".md") || (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"))) {
			sources = append(sources, path)
		}
		return nil
	})
	checked := 0
	for _, path := range sources {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "\\\n", " ")
		for _, m := range temporalCommand.FindAllStringSubmatch(text, -1) {
			words := strings.Fields(m[1])
			if words[0] == "setup" || len(words) < 2 && words[0] != "config" {
				continue
			}
			var flags []string
			for _, f := range strings.Fields(m[2]) {
				if strings.HasPrefix(f, "--") {
					flags = append(flags, strings.SplitN(strings.TrimSuffix(f, ","), "=", 2)[0])
				}
			}
			key := strings.Join(words, " ") + " " + strings.Join(flags, " ")
			if seen[key] {
				continue
			}
			seen[key] = true
			checked++
			out, err := exec.Command(cli, append(words, "--help")...).CombinedOutput()
			help := string(out)
			if err != nil || !strings.Contains(help, "temporal "+strings.Join(words, " ")+" [flags]") &&
				!strings.Contains(help, "temporal "+strings.Join(words, " ")+" [command]") {
				t.Errorf("%s names `temporal %s`, which %s does not have (err %v)", path, strings.Join(words, " "), cli, err)
				continue
			}
			for _, f := range flags {
				if !strings.Contains(help, f+" ") && !strings.Contains(help, f+"\n") {
					t.Errorf("%s names `temporal %s %s`: the CLI has no such flag", path, strings.Join(words, " "), f)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("found only %d temporal commands to check: %v", checked, seen)
	}
	t.Logf("checked %d: %v", checked, seen)
}
