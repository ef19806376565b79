//go:build !dev

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNoDevStack is `tzurot dev`'s answer in a production binary, which
// links none of the offline stand-ins.
var errNoDevStack = errors.New("this tzurot was built without the dev stack: run `make dev` (go run -tags dev ./cmd/tzurot dev)")

func devCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: devShort + " (needs a build with -tags dev: make dev)",
		Args:  cobra.ArbitraryArgs,
		RunE:  func(*cobra.Command, []string) error { return errNoDevStack },
	}
}
