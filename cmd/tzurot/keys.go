package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/opcli"
)

func keysCmd() *cobra.Command {
	keys := group(&cobra.Command{Use: "keys", Short: "stored API keys: rotate"})
	keys.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "re-seal stored API keys from APP_MASTER_KEY_PREVIOUS to APP_MASTER_KEY, then verify every one",
		Args:  positional(0, 0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, log, err := setup(c)
			if err != nil {
				return err
			}
			return opcli.RotateMasterKey(c.Context(), cfg, c.OutOrStdout(), log)
		},
	})
	return keys
}
