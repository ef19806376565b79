package config

import (
	"os"
	"strings"
	"testing"
)

// README.md and docs/contract.md carry the table generated from the
// declaration, so a variable added, renamed or redescribed shows there.
func TestDocTablesAreCurrent(t *testing.T) {
	for _, path := range []string{"../../README.md", "../../docs/contract.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := RewriteDoc(string(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if want != string(b) {
			t.Errorf("%s: its configuration table is out of date with internal/config: run make generate (or go generate ./internal/config) and commit", strings.TrimPrefix(path, "../../"))
		}
	}
}

func TestDocTableHasEveryVariable(t *testing.T) {
	table := DocTable()
	for _, v := range Declared() {
		row := "| `" + v.Name + "` | "
		if !strings.Contains(table, row) {
			t.Errorf("no row for %s in\n%s", v.Name, table)
		}
		if strings.TrimSpace(v.Meaning) == "" {
			t.Errorf("%s (Config.%s) has no desc tag: say what it means", v.Name, v.Field)
		}
	}
	for _, want := range []string{
		"| `GUEST_MODE` | `free` | what users without a key may do: `off` nothing;",
		"| `APP_MASTER_KEY` | unset | ",
		" | yes |\n| `APP_MASTER_KEY_PREVIOUS` | unset | ",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRewriteDoc(t *testing.T) {
	doc := "# Title\n\n" + DocBegin + "\nold table\n" + DocEnd + "\n\nAfter.\n"
	got, err := RewriteDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\n" + DocBegin + "\n\n" + DocTable() + "\n" + DocEnd + "\n\nAfter.\n"; got != want {
		t.Errorf("RewriteDoc = %q, want %q", got, want)
	}
	if again, _ := RewriteDoc(got); again != got {
		t.Error("RewriteDoc is not idempotent")
	}
	if _, err := RewriteDoc("# no markers\n"); err == nil || !strings.Contains(err.Error(), "config:begin") {
		t.Errorf("RewriteDoc without markers: err = %v, want one naming the missing marker", err)
	}
}

func TestCodeSpans(t *testing.T) {
	cases := map[string]string{
		"'off' nothing; 'free' only":          "`off` nothing; `free` only",
		"the operator's key, as 'GUEST_MODE'": "the operator's key, as `GUEST_MODE`",
		"(CLI: '--codec-auth \"Bearer x\"')":  "(CLI: `--codec-auth \"Bearer x\"`)",
		"users' keys and 'a'":                 "users' keys and `a`",
		"no span: 'unclosed":                  "no span: 'unclosed",
		"'/wallet set', 'remove' and 'test'":  "`/wallet set`, `remove` and `test`",
		"in the process's memory; '0' off":    "in the process's memory; `0` off",
	}
	for in, want := range cases {
		if got := codeSpans(in); got != want {
			t.Errorf("codeSpans(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cell("a | b"); got != `a \| b` {
		t.Errorf("cell = %q, want the pipe escaped", got)
	}
}
