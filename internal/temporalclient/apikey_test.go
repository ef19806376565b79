package temporalclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

const testMasterKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// parse is config.Parse of env.
func parse(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.ParseMap(env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TEMPORAL_API_KEY reaches the server as Temporal Cloud reads it — gRPC
// metadata "authorization: Bearer <key>" — over TLS, which the key turns
// on by itself. The server here is a gRPC stand-in that records each call's
// metadata and refuses it as Cloud refuses an unknown key; the refusal is
// one line, and the key is not in it.
func TestAPIKeyIsSentAsBearerOverTLS(t *testing.T) {
	const apiKey = "tzurot-test-api-key-0123456789abcdef"
	p := newPKI(t)
	var mu sync.Mutex
	var seen []metadata.MD
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(p.serverTLS(false))),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			md, _ := metadata.FromIncomingContext(stream.Context())
			mu.Lock()
			seen = append(seen, md)
			mu.Unlock()
			return status.Error(codes.Unauthenticated, "Request unauthorized")
		}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	cfg := parse(t, map[string]string{
		"APP_MASTER_KEY": testMasterKey, "TEMPORAL_ADDRESS": ln.Addr().String(), "TEMPORAL_NAMESPACE": "tzurot.a1b2c",
		"TEMPORAL_API_KEY": apiKey, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.CA,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := temporalclient.Dial(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded against a server refusing every call")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatalf("the server saw no call (over TLS with the test CA): %v", err)
	}
	for _, md := range seen {
		if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+apiKey {
			t.Errorf("authorization metadata %q, want the API key as a bearer token", got)
		}
		if got := md.Get("temporal-namespace"); len(got) > 0 && got[0] != "tzurot.a1b2c" {
			t.Errorf("temporal-namespace %q", got)
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, apiKey) ||
		!strings.Contains(msg, ln.Addr().String()) || !strings.Contains(msg, "TLS with an API key") || !strings.Contains(msg, "unauthorized") {
		t.Errorf("Dial error %q: want one line naming the address, TLS with an API key and the refusal, without the key", msg)
	}
}

// The masked configuration log never shows the API key or a TLS key.
func TestConfigLogMasksTemporalSecrets(t *testing.T) {
	const apiKey, keyPEM = "tzurot-test-api-key-0123456789abcdef", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----"
	cfg := parse(t, map[string]string{"TEMPORAL_API_KEY": apiKey, "TEMPORAL_TLS_CLIENT_KEY_DATA": keyPEM, "TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/tzurot/client.pem"})
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("started", "config", cfg)
	if out := b.String(); strings.Contains(out, apiKey) || strings.Contains(out, "MIGHAgEAMBMG") || !strings.Contains(out, "/etc/tzurot/client.pem") {
		t.Errorf("config log %s: want the key and the TLS key masked, the certificate path shown", out)
	}
}
