package temporalclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/tzurot/tzurot/internal/config"
)

// checkConfigFile is an error when TEMPORAL_CONFIG_FILE is set but names no
// readable file: envconfig would read nothing and connect with defaults.
func checkConfigFile(cfg config.Config) error {
	path, ok := cfg.Given("TEMPORAL_CONFIG_FILE")
	if !ok {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("TEMPORAL_CONFIG_FILE %s: %v; point it at an existing Temporal config file (temporal config set writes one) or unset it", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath is a file error without the path, which the caller names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// explainLoad turns envconfig's error into one line saying which config
// file was read (or that none exists) and what to do; an unnamed profile's
// error is passed on with the variables to check.
func explainLoad(cfg config.Config, err error) error {
	profile, ok := cfg.Given("TEMPORAL_PROFILE")
	if !ok || !strings.Contains(err.Error(), "unable to find profile") {
		return fmt.Errorf("read the Temporal connection settings (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_TLS_*): %w", err)
	}
	path := cmp.Or(cfg.TemporalConfigFile, envconfig.DefaultConfigFilePath())
	if _, serr := os.Stat(path); serr != nil {
		return fmt.Errorf("TEMPORAL_PROFILE %s: no Temporal config file exists at %s, so there is no profile to read; create it (temporal config set --profile %s --prop address --value HOST:PORT), set TEMPORAL_CONFIG_FILE to yours, or unset TEMPORAL_PROFILE",
			profile, path, profile)
	}
	cc, lerr := envconfig.LoadClientConfig(envconfig.LoadClientConfigOptions{ConfigFilePath: path, EnvLookup: lookup{}})
	names := "none"
	if lerr == nil && len(cc.Profiles) > 0 {
		names = strings.Join(slices.Sorted(maps.Keys(cc.Profiles)), ", ")
	}
	return fmt.Errorf("TEMPORAL_PROFILE %s is not a profile of %s (its profiles: %s); choose one of those, or add it (temporal config set --profile %s --prop address --value HOST:PORT)",
		profile, path, names, profile)
}

// checkNamespace is an error naming the namespace and what to do when the
// server does not have it; any other answer (a key not allowed to describe
// it, say) is left for the first real call to report.
func checkNamespace(ctx context.Context, c client.Client, namespace string) error {
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var nf *serviceerror.NamespaceNotFound
	var nf2 *serviceerror.NotFound
	if errors.As(err, &nf) || errors.As(err, &nf2) {
		return fmt.Errorf("namespace %s not found on the Temporal server: create it (temporal operator namespace create --namespace %s), or set TEMPORAL_NAMESPACE (or the profile's namespace) to one that exists", namespace, namespace)
	}
	return nil
}
