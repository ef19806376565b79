// Command configdoc rewrites the configuration table of Markdown files from
// the declaration in internal/config (see config.RewriteDoc): the part
// between the config:begin and config:end lines.
//
//	go generate ./internal/config   (make generate runs it too)
package main

import (
	"fmt"
	"os"

	"github.com/tzurot/tzurot/internal/config"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: configdoc FILE.md...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := rewrite(path); err != nil {
			fmt.Fprintf(os.Stderr, "configdoc: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func rewrite(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := config.RewriteDoc(string(b))
	if err != nil || out == string(b) {
		return err
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
