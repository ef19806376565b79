package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/temporalsetup"
)

// temporalCmd is `tzurot temporal`: what operators run on a Temporal
// namespace (internal/temporalsetup).
func temporalCmd() *cobra.Command {
	setup := leafCmd("setup", "register the search attributes on TEMPORAL_NAMESPACE, then create or update the retention schedules; safe to run again",
		temporalsetup.Run)
	setup.Long = setup.Short + "\n\nIt connects as the worker does (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, and TEMPORAL_API_KEY, TEMPORAL_TLS_* or TEMPORAL_PROFILE for a cluster with TLS; APP_MASTER_KEY). " +
		"It waits up to 90 s for Temporal to answer (a server starting beside it, as in docker-compose). " +
		"A search attribute already registered with another type stops it with one line naming it."
	t := group(&cobra.Command{Use: "temporal", Short: "the Temporal namespace: setup"})
	t.AddCommand(setup)
	return t
}
