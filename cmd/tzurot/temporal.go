package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/temporalsetup"
)

// temporalCmd is `tzurot temporal`: what operators run on a Temporal
// namespace (internal/temporalsetup).
func temporalCmd() *cobra.Command {
	t := group(&cobra.Command{Use: "temporal", Short: "the Temporal namespace: setup"})
	t.AddCommand(leafCmd("setup", "register the search attributes on TEMPORAL_NAMESPACE, then create or update the retention schedules; safe to run again",
		temporalsetup.Run))
	return t
}
