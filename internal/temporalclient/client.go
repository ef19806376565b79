// Package temporalclient dials Temporal the one way every tzurot process must:
// the connection as the Temporal SDK's environment configuration gives it
// (address, namespace, TLS, mTLS, API key, profile), then payloads encrypted
// by the codec, failure messages encoded with them, the OpenTelemetry
// tracing interceptor, the SDK's metrics into internal/metrics, and the SDK
// logging through slog.
package temporalclient

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/payloadcodec"
)

// Codec builds the payload codec from the configured master keys.
func Codec(cfg config.Config) (*payloadcodec.Codec, error) {
	cur, err := keycrypt.ParseMasterKey(keycrypt.MasterKeyEnv, cfg.MasterKey.Reveal())
	if err != nil {
		return nil, err
	}
	var prev []byte
	if cfg.MasterKeyPrevious != "" {
		if prev, err = keycrypt.ParseMasterKey(keycrypt.PreviousMasterKeyEnv, cfg.MasterKeyPrevious.Reveal()); err != nil {
			return nil, err
		}
	}
	return payloadcodec.New(cur, prev)
}

// Connection returns the connection half of the client options (HostPort,
// Namespace, TLS, Credentials, gRPC headers), read the way every Temporal
// tool reads it, by go.temporal.io/sdk/contrib/envconfig: the profile
// TEMPORAL_PROFILE (else "default") of the TOML file TEMPORAL_CONFIG_FILE
// (else $XDG_CONFIG_HOME/temporalio/temporal.toml, when it exists), then the
// TEMPORAL_* variables over it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS*, and TEMPORAL_GRPC_META_* from the
// environment). envconfig sees the values cfg was parsed from, so a blank
// variable is unset for it too. What neither gives is cfg's default
// (127.0.0.1:7233, namespace default). With cfg.TemporalDevServer (`tzurot
// dev`'s own server) it is plain text to cfg's address and namespace. A
// remote codec in the profile is ignored: payloads are encoded in process.
func Connection(cfg config.Config) (client.Options, error) {
	if cfg.TemporalDevServer {
		return client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace}, nil
	}
	if err := checkConfigFile(cfg); err != nil {
		return client.Options{}, err
	}
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: lookup{cfg}})
	if err != nil {
		return client.Options{}, explainLoad(cfg, err)
	}
	opts.HostPort = cmp.Or(opts.HostPort, cfg.TemporalAddress)
	opts.Namespace = cmp.Or(opts.Namespace, cfg.TemporalNamespace)
	return opts, nil
}

// lookup gives envconfig the declared TEMPORAL_* variables as cfg holds
// them, and the environment's TEMPORAL_GRPC_META_* headers, which are not
// declared (their names are the header's).
type lookup struct{ cfg config.Config }

func (l lookup) LookupEnv(name string) (string, bool) { return l.cfg.Given(name) }

func (l lookup) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TEMPORAL_GRPC_META_") {
			out = append(out, kv)
		}
	}
	return out
}

// Options are the client options every process uses: Connection, with
// tzurot's own on top.
func Options(cfg config.Config, codec *payloadcodec.Codec, log *slog.Logger) (client.Options, error) {
	opts, err := Connection(cfg)
	if err != nil {
		return client.Options{}, err
	}
	tracing, err := opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{})
	if err != nil {
		return client.Options{}, fmt.Errorf("tracing interceptor: %w", err)
	}
	dc := codec.DataConverter()
	opts.DataConverter = dc
	// EncodeCommonAttributes moves failure messages and stack traces into an
	// encoded payload, so provider error text never sits in history in clear.
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
	opts.Interceptors = []interceptor.ClientInterceptor{tracing}
	opts.Logger = tlog.NewStructuredLogger(log.With("component", "temporal-sdk"))
	opts.MetricsHandler = metrics.TemporalHandler()
	return opts, nil
}

// Dial connects to Temporal with Options, and watch's gRPC interceptors on
// every call (searchattr.ForgetOnRefusal). Its error is one line naming the
// address, the namespace and the settings to check.
func Dial(ctx context.Context, cfg config.Config, log *slog.Logger, watch ...grpc.UnaryClientInterceptor) (client.Client, *payloadcodec.Codec, error) {
	codec, err := Codec(cfg)
	if err != nil {
		return nil, nil, err
	}
	opts, err := Options(cfg, codec, log)
	if err != nil {
		return nil, nil, err
	}
	if len(watch) > 0 {
		opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(watch...))
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to Temporal at %s (namespace %s, %s): %s; check TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY or TEMPORAL_PROFILE, or run `tzurot dev`, which starts a server",
			opts.HostPort, opts.Namespace, security(opts), oneLine(err))
	}
	if err := checkNamespace(ctx, c, opts.Namespace); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, codec, nil
}

// security says how opts connect, for the error of Dial.
func security(opts client.Options) string {
	switch tls := opts.ConnectionOptions.TLS; {
	case tls == nil || opts.ConnectionOptions.TLSDisabled:
		return "plain text"
	case len(tls.Certificates) > 0:
		return "TLS with a client certificate"
	case opts.Credentials != nil:
		return "TLS with an API key"
	default:
		return "TLS without a client certificate"
	}
}

// oneLine is err's text on one line (gRPC quotes nested errors with \n).
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
