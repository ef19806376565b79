// Package temporalclient dials Temporal the one way every tzurot process must:
// payloads encrypted by the codec, failure messages encoded with them, the
// OpenTelemetry tracing interceptor, and the SDK logging through slog.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/keycrypt"
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

// Options are the client options every process uses.
func Options(cfg config.Config, codec *payloadcodec.Codec, log *slog.Logger) (client.Options, error) {
	tracing, err := opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{})
	if err != nil {
		return client.Options{}, fmt.Errorf("tracing interceptor: %w", err)
	}
	dc := codec.DataConverter()
	return client.Options{
		HostPort:      cfg.TemporalAddress,
		Namespace:     cfg.TemporalNamespace,
		DataConverter: dc,
		// EncodeCommonAttributes moves failure messages and stack traces into an
		// encoded payload, so provider error text never sits in history in clear.
		FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter:          dc,
			EncodeCommonAttributes: true,
		}),
		Interceptors: []interceptor.ClientInterceptor{tracing},
		Logger:       tlog.NewStructuredLogger(log.With("component", "temporal-sdk")),
	}, nil
}

// Dial connects to Temporal with Options.
func Dial(ctx context.Context, cfg config.Config, log *slog.Logger) (client.Client, *payloadcodec.Codec, error) {
	codec, err := Codec(cfg)
	if err != nil {
		return nil, nil, err
	}
	opts, err := Options(cfg, codec, log)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w; is the server running? `tzurot dev` starts one", cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	return c, codec, nil
}
