// Command seal prints an API key sealed with a master key, as the JSON object
// the ValidateAPIKey workflow takes in sealed_key — for starting workflows from
// the temporal CLI without putting the plaintext key in history.
//
//	go run ./internal/tools/seal -key "$APP_MASTER_KEY" sk-or-v1-…
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/tzurot/tzurot/internal/keycrypt"
)

func main() {
	masterKey := flag.String("key", os.Getenv(keycrypt.MasterKeyEnv), "master key, 64 hex characters (default $APP_MASTER_KEY)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: seal [-key MASTER_KEY] API_KEY")
		os.Exit(2)
	}
	kr, err := keycrypt.NewKeyring(*masterKey, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "seal:", err)
		os.Exit(1)
	}
	s, err := kr.Seal(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "seal:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(s)
}
