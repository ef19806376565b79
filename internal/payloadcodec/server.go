package payloadcodec

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/rs/cors"
	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/internal/redact"
)

// ServerOptions says who may call the codec over HTTP.
type ServerOptions struct {
	// AllowedOrigins are the browser origins (scheme://host[:port], lower
	// case) of the Temporal Web UI pages allowed to call the codec: CORS
	// headers, credentials included, are sent to these only, and a request
	// whose Origin is another is refused with 403.
	AllowedOrigins []string
	// AuthToken, when set, is required on every request except CORS
	// preflights (which browsers send without credentials): as
	// "Authorization: Bearer <token>" (the temporal CLI's --codec-auth, or
	// a proxy) or as HTTP Basic with the token as the password (a browser
	// that signed in on the codec's own page, then the Web UI with "Include
	// cross-origin credentials" / TEMPORAL_CODEC_INCLUDE_CREDENTIALS).
	AuthToken redact.Secret
	// Log receives refusals (never the token); nil discards them.
	Log *slog.Logger
}

// maxBody bounds a request body: Temporal's own payload limits are a few
// MB (blob size 2 MB by default, gRPC messages 4 MB).
const maxBody = 16 << 20

// authRealm names the codec in the browser's sign-in prompt.
const authRealm = `realm="tzurot payload codec", charset="UTF-8"`

// NewHTTPHandler serves the codec with the Temporal codec server contract
// (POST …/encode and …/decode with a JSON Payloads body, as
// converter.NewPayloadCodecHTTPHandler; see
// https://docs.temporal.io/production-deployment/data-encryption), behind
// CORS limited to opts.AllowedOrigins (https://fetch.spec.whatwg.org/#http-cors-protocol)
// and the access check of opts.AuthToken. A GET of any path answers 200 once
// the check passes, so a browser can sign in on the codec's own page first.
//
// Status codes: 403 for an Origin not allowed, 401 (with WWW-Authenticate
// Basic and Bearer challenges) for a missing or wrong token, 413 for a body
// over 16 MiB, otherwise those of the SDK's handler (400 bad body, 404 other
// paths or methods).
func NewHTTPHandler(codec converter.PayloadCodec, opts ServerOptions) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origins := slices.Clone(opts.AllowedOrigins)
	origins = slices.DeleteFunc(origins, func(o string) bool { return o == "" || o == "*" })
	c := cors.New(cors.Options{
		// rs/cors reads an empty list as "every origin"; ours means none.
		AllowOriginFunc:  func(o string) bool { return slices.Contains(origins, strings.ToLower(o)) },
		AllowedMethods:   []string{http.MethodPost},
		AllowedHeaders:   []string{"Content-Type", "X-Namespace", "Authorization"},
		AllowCredentials: true,
		// A Web UI on a public address calling a codec on the user's own
		// machine needs Chrome's Private Network Access answer.
		AllowPrivateNetwork: true,
		MaxAge:              600,
	})
	var want [sha256.Size]byte
	if t := opts.AuthToken.Reveal(); t != "" {
		want = sha256.Sum256([]byte(t))
	}
	authorised := func(r *http.Request) bool {
		if opts.AuthToken == "" {
			return true
		}
		got, ok := presentedToken(r.Header.Get("Authorization"))
		if !ok {
			return false
		}
		sum := sha256.Sum256([]byte(got)) // same length whatever was sent
		return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	}
	sdk := converter.NewPayloadCodecHTTPHandler(codec)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorised(r) {
			log.Warn("codec request refused: no valid CODEC_AUTH_TOKEN in Authorization",
				"remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "path", r.URL.Path)
			w.Header().Add("WWW-Authenticate", "Basic "+authRealm)
			w.Header().Add("WWW-Authenticate", `Bearer realm="tzurot payload codec"`)
			http.Error(w, "unauthorised: send Authorization: Bearer <CODEC_AUTH_TOKEN>, or sign in with the token as password", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "tzurot payload codec: you may use it. Point the Web UI at this address (with \"Include cross-origin credentials\" when signed in here).")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		sdk.ServeHTTP(w, r)
	})
	withCORS := c.Handler(inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !c.OriginAllowed(r) {
			log.Warn("codec request refused: origin not in CODEC_CORS_ORIGINS", "origin", o, "remote", r.RemoteAddr)
			http.Error(w, "forbidden: origin "+o+" is not in CODEC_CORS_ORIGINS", http.StatusForbidden)
			return
		}
		withCORS.ServeHTTP(w, r)
	})
}

// presentedToken is the token of an Authorization header: the credentials
// of "Bearer <token>" (RFC 6750), or the password of "Basic <base64
// user:password>" (RFC 7617). Scheme names are case-insensitive.
func presentedToken(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return cred, cred != ""
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", false
		}
		_, pw, ok := strings.Cut(string(raw), ":")
		return pw, ok && pw != ""
	}
	return "", false
}

// IsLoopback says whether a listen address (host:port) accepts connections
// from this machine only: an IP in 127.0.0.0/8 or ::1, or "localhost". An
// empty host, 0.0.0.0 or :: listens on every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckListen decides whether the codec may listen on addr: on loopback
// always; elsewhere only with a token, and then warn is the line to log,
// since anyone who can reach the address and holds the token can decrypt
// every payload, and the token itself crosses the network (plain HTTP
// unless a TLS proxy stands in front).
func CheckListen(addr string, token redact.Secret) (warn string, err error) {
	if IsLoopback(addr) {
		return "", nil
	}
	if token == "" {
		return "", fmt.Errorf("codec server on %s would decrypt every payload for anyone who reaches it: set CODEC_AUTH_TOKEN (openssl rand -hex 32) or listen on 127.0.0.1", addr)
	}
	return "the codec server listens beyond this machine: anyone holding CODEC_AUTH_TOKEN can decrypt workflow history; put it behind TLS (a reverse proxy) and keep CODEC_CORS_ORIGINS to your Web UI", nil
}
