package config

import (
	"fmt"
	"strings"
)

// The markers around the generated table in README.md and docs/contract.md;
// [RewriteDoc] replaces what lies between them.
const (
	DocBegin = "<!-- config:begin: generated from the Config struct of internal/config; edit its tags, then run make generate -->"
	DocEnd   = "<!-- config:end -->"
)

// DocTable is the declaration as a Markdown table: one row per variable
// with its default ("unset" without one), meaning and whether it is secret.
func DocTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning | secret |\n|---|---|---|---|\n")
	for _, v := range declared() {
		def, secret := "unset", "no"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		if v.Secret {
			secret = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, cell(def), cell(codeSpans(v.Meaning)), secret)
	}
	return b.String()
}

// RewriteDoc returns doc with the text between its [DocBegin] and [DocEnd]
// lines replaced by [DocTable], blank lines around it.
func RewriteDoc(doc string) (string, error) {
	before, rest, ok := strings.Cut(doc, DocBegin+"\n")
	if !ok {
		return "", fmt.Errorf("no line %q to put the configuration table after", DocBegin)
	}
	_, after, ok := strings.Cut(rest, DocEnd+"\n")
	if !ok {
		return "", fmt.Errorf("no line %q after %q", DocEnd, DocBegin)
	}
	return before + DocBegin + "\n\n" + DocTable() + "\n" + DocEnd + "\n" + after, nil
}

// cell keeps a "|" from ending a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// codeSpans turns the desc tag's 'x' into Markdown's `x`: a quote opens a
// span at the start or after a space or "(", and closes it before the end, a
// space or punctuation; any other quote (an apostrophe) stays as it is.
func codeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' && (i == 0 || s[i-1] == ' ' || s[i-1] == '(') {
			if j := strings.IndexByte(s[i+1:], '\''); j > 0 {
				end := i + 1 + j
				if end+1 == len(s) || strings.IndexByte(" ,.;:)", s[end+1]) >= 0 {
					b.WriteString("`" + s[i+1:end] + "`")
					i = end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
