package main

import (
	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/opcli"
)

func keysCmd() *cobra.Command {
	keys := group(&cobra.Command{Use: "keys", Short: "stored API keys: rotate"})
	keys.AddCommand(leafCmd("rotate", "re-seal stored API keys from APP_MASTER_KEY_PREVIOUS to APP_MASTER_KEY, then verify every one",
		opcli.RotateMasterKey))
	return keys
}
