package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

func workerCmd() *cobra.Command {
	return processCmd("worker", "the Temporal worker: every workflow and activity on TEMPORAL_TASK_QUEUE", app.RunWorker)
}
