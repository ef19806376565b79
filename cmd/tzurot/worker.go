package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/app"
)

func workerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "the Temporal worker: every workflow and activity on TEMPORAL_TASK_QUEUE",
		Args:  positional(0, 0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, log, err := setup(c)
			if err != nil {
				return err
			}
			return app.RunWorker(c.Context(), cfg, log)
		},
	}
}
