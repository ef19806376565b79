package temporalclient_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/temporalclient"
)

// The connection is read as every Temporal tool reads it: a profile of the
// config file, the TEMPORAL_* variables over it, tzurot's defaults under it;
// `tzurot dev`'s own server ignores the file.
func TestConnectionFromProfileAndVariables(t *testing.T) {
	p := newPKI(t)
	file := filepath.Join(t.TempDir(), "temporal.toml")
	toml := `[profile.default]
address = "default.example:7233"

[profile.prod]
address = "tzurot.a1b2c.tmprl.cloud:7233"
namespace = "tzurot.a1b2c"
[profile.prod.tls]
client_cert_path = "` + p.ClientCert + `"
client_key_path = "` + p.ClientKey + `"
`
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name              string
		env               map[string]string
		devServer         bool
		wantHost, wantNS  string
		wantTLS, wantCert bool
	}{
		{"nothing set: tzurot's defaults", map[string]string{"TEMPORAL_CONFIG_FILE": empty}, false, "127.0.0.1:7233", "default", false, false},
		{"the file's default profile", map[string]string{"TEMPORAL_CONFIG_FILE": file}, false, "default.example:7233", "default", false, false},
		{"TEMPORAL_PROFILE", map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "prod"}, false, "tzurot.a1b2c.tmprl.cloud:7233", "tzurot.a1b2c", true, true},
		{"variables over the profile", map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "prod", "TEMPORAL_ADDRESS": "10.0.0.7:7233", "TEMPORAL_NAMESPACE": "staging"}, false, "10.0.0.7:7233", "staging", true, true},
		{"TEMPORAL_TLS alone: the system's roots", map[string]string{"TEMPORAL_CONFIG_FILE": empty, "TEMPORAL_TLS": "TRUE"}, false, "127.0.0.1:7233", "default", true, false},
		{"tzurot dev's own server", map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_TLS": "true"}, true, "127.0.0.1:7233", "default", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parse(t, tc.env)
			cfg.TemporalDevServer = tc.devServer
			opts, err := temporalclient.Connection(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tls := opts.ConnectionOptions.TLS
			if opts.HostPort != tc.wantHost || opts.Namespace != tc.wantNS || (tls != nil) != tc.wantTLS ||
				(tls != nil && len(tls.Certificates) > 0) != tc.wantCert {
				t.Errorf("got %s %s TLS %v, want %s %s TLS %v (client certificate %v)", opts.HostPort, opts.Namespace, tls != nil, tc.wantHost, tc.wantNS, tc.wantTLS, tc.wantCert)
			}
		})
	}
	// What goes wrong is one line saying which file was read, or that none
	// exists, and what to do.
	missing := filepath.Join(t.TempDir(), "none.toml")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no default file either
	for _, c := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "nope"},
			[]string{"TEMPORAL_PROFILE nope is not a profile of " + file, "its profiles: default, prod", "temporal config set --profile nope"}},
		{map[string]string{"TEMPORAL_PROFILE": "nosuch"},
			[]string{"TEMPORAL_PROFILE nosuch: no Temporal config file exists at ", "temporalio/temporal.toml", "unset TEMPORAL_PROFILE"}},
		{map[string]string{"TEMPORAL_CONFIG_FILE": missing},
			[]string{"TEMPORAL_CONFIG_FILE " + missing + ": no such file or directory", "or unset it"}},
		{map[string]string{"TEMPORAL_CONFIG_FILE": missing, "TEMPORAL_PROFILE": "prod"},
			[]string{"TEMPORAL_CONFIG_FILE " + missing}},
	} {
		_, err := temporalclient.Connection(parse(t, c.env))
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v: %v, want one line containing %q", c.env, err, w)
			}
		}
	}
}
