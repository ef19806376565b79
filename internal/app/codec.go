package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/payloadcodec"
)

// CodecAddress is where `tzurot dev` serves the payload codec for the Web UI.
const CodecAddress = "127.0.0.1:8234"

// CodecServerOptions are the codec server's CORS origins and token from the
// configuration (CODEC_CORS_ORIGINS, CODEC_AUTH_TOKEN).
func CodecServerOptions(cfg config.Config, log *slog.Logger) payloadcodec.ServerOptions {
	return payloadcodec.ServerOptions{AllowedOrigins: cfg.CodecCORSOrigins, AuthToken: cfg.CodecAuthToken, Log: log}
}

// ServeCodec serves the payload codec over HTTP for the Temporal Web UI and
// CLI (payloadcodec.NewHTTPHandler: CORS for opts.AllowedOrigins only, the
// token check when opts.AuthToken is set). It refuses a non-loopback addr
// without a token, and logs a warning for one with a token.
func ServeCodec(ctx context.Context, addr string, codec converter.PayloadCodec, opts payloadcodec.ServerOptions, log *slog.Logger) (stop func(), err error) {
	warn, err := payloadcodec.CheckListen(addr, opts.AuthToken)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("codec server on %s: %w (is another tzurot dev running?)", addr, err)
	}
	if warn != "" {
		log.Warn(warn, "addr", ln.Addr().String())
	}
	srv := &http.Server{Handler: payloadcodec.NewHTTPHandler(codec, opts), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("payload codec for the Web UI", "url", "http://"+ln.Addr().String(),
		"cors_origins", strings.Join(opts.AllowedOrigins, ","), "token_required", opts.AuthToken != "")
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
