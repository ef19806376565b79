package config

import (
	"fmt"
	"strings"
)

// cliTLSNames are the temporal CLI's own environment variables for its TLS
// flags (v1.5.1: --tls-cert-path is TEMPORAL_TLS_CERT, …) mapped to the
// names the SDK's environment configuration (contrib/envconfig) reads, and
// so tzurot. The CLI reads both sets; tzurot reads only the SDK's, so one
// of these set alone would leave a worker in plain text without a word.
var cliTLSNames = [][2]string{
	{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
	{"TEMPORAL_TLS_CERT_DATA", "TEMPORAL_TLS_CLIENT_CERT_DATA"},
	{"TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CLIENT_KEY_PATH"},
	{"TEMPORAL_TLS_KEY_DATA", "TEMPORAL_TLS_CLIENT_KEY_DATA"},
	{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
	{"TEMPORAL_TLS_CA_DATA", "TEMPORAL_TLS_SERVER_CA_CERT_DATA"},
}

// checkCLINames refuses each of the CLI's TLS variable names that is set,
// one line naming the one tzurot reads instead: a start in plain text with
// TEMPORAL_TLS_CERT set is never silent.
func checkCLINames(lookup func(string) (string, bool)) []error {
	var errs []error
	for _, n := range cliTLSNames {
		if v, ok := lookup(n[0]); ok && strings.TrimSpace(v) != "" {
			errs = append(errs, fmt.Errorf("%s is the temporal CLI's name and tzurot does not read it: set %s instead (the Temporal SDK's environment configuration, which the CLI reads too)", n[0], n[1]))
		}
	}
	return errs
}
