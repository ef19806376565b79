package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

// workerCmd is `tzurot worker`. worker/worker.go registers every workflow
// (workflows/: one file each, steps.go the shared steps) and activity
// (activities/: the reply path, delivery*.go posting to Discord;
// activities/operator: data migrations and key rotation).
func workerCmd() *cobra.Command {
	return processCmd("worker", "the Temporal worker: every workflow and activity on TEMPORAL_TASK_QUEUE", app.RunWorker)
}
