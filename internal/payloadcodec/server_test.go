package payloadcodec

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tzurot/tzurot/internal/redact"
)

const testToken = "0123456789abcdef0123456789abcdef"

var devOrigins = []string{"http://127.0.0.1:8233", "http://localhost:8233"}

// decodeBody is a /decode request for one payload the codec sealed, and
// the clear text the answer must hold.
func decodeBody(t *testing.T, c *Codec) (body []byte, clear string) {
	t.Helper()
	p, err := c.DataConverter().ToPayload(map[string]string{"content": "a private message"})
	if err != nil {
		t.Fatal(err)
	}
	body, err = protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	return body, `{"content":"a private message"}`
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func TestCodecServerCORSAndAccess(t *testing.T) {
	c, _ := New(masterKey(1), nil)
	body, clear := decodeBody(t, c)
	type req struct {
		method, path, origin, auth string
		preflightHeaders           string // Access-Control-Request-Headers of a preflight: lower case, sorted, as browsers send it
	}
	cases := []struct {
		name      string
		token     redact.Secret
		req       req
		status    int
		allowOrig string // the Access-Control-Allow-Origin wanted ("" none)
		decoded   bool   // the clear text is in the answer
	}{
		// CORS preflights: answered for the configured origins only, and
		// without credentials (browsers send none on a preflight).
		{"preflight from the dev Web UI", testToken, req{"OPTIONS", "/decode", "http://127.0.0.1:8233", "", "authorization,content-type,x-namespace"}, 204, "http://127.0.0.1:8233", false},
		{"preflight from the dev Web UI as localhost", testToken, req{"OPTIONS", "/decode", "http://localhost:8233", "", "content-type"}, 204, "http://localhost:8233", false},
		{"preflight from another site", testToken, req{"OPTIONS", "/decode", "https://evil.example", "", "content-type"}, 403, "", false},
		{"preflight from another port of the same host", "", req{"OPTIONS", "/decode", "http://127.0.0.1:9999", "", "content-type"}, 403, "", false},
		{"preflight from https instead of http", "", req{"OPTIONS", "/decode", "https://127.0.0.1:8233", "", "content-type"}, 403, "", false},
		{"preflight from a sandboxed page", "", req{"OPTIONS", "/decode", "null", "", "content-type"}, 403, "", false},
		// Actual requests.
		{"Web UI with the token as bearer", testToken, req{"POST", "/decode", "http://127.0.0.1:8233", "Bearer " + testToken, ""}, 200, "http://127.0.0.1:8233", true},
		{"Web UI with browser credentials (Basic, token as password)", testToken, req{"POST", "/default/decode", "http://localhost:8233", basic("operator", testToken), ""}, 200, "http://localhost:8233", true},
		{"Web UI without credentials", testToken, req{"POST", "/decode", "http://127.0.0.1:8233", "", ""}, 401, "http://127.0.0.1:8233", false},
		{"Web UI with a wrong token", testToken, req{"POST", "/decode", "http://127.0.0.1:8233", "Bearer " + strings.Repeat("x", 32), ""}, 401, "http://127.0.0.1:8233", false},
		{"a token's prefix is not the token", testToken, req{"POST", "/decode", "", "Bearer " + testToken[:16], ""}, 401, "", false},
		{"the token as Basic user name is not enough", testToken, req{"POST", "/decode", "", basic(testToken, ""), ""}, 401, "", false},
		{"another scheme", testToken, req{"POST", "/decode", "", "Token " + testToken, ""}, 401, "", false},
		{"another site with the right token", testToken, req{"POST", "/decode", "https://evil.example", "Bearer " + testToken, ""}, 403, "", false},
		{"another site, no token configured", "", req{"POST", "/decode", "https://evil.example", "", ""}, 403, "", false},
		{"the CLI (no Origin) with --codec-auth", testToken, req{"POST", "/decode", "", "Bearer " + testToken, ""}, 200, "", true},
		{"scheme names in any case", testToken, req{"POST", "/decode", "", "bearer " + testToken, ""}, 200, "", true},
		{"the CLI without a token", testToken, req{"POST", "/decode", "", "", ""}, 401, "", false},
		{"no token configured: loopback use as before", "", req{"POST", "/decode", "http://127.0.0.1:8233", "", ""}, 200, "http://127.0.0.1:8233", true},
		{"signing in on the codec's own page", testToken, req{"GET", "/", "", basic("me", testToken), ""}, 200, "", false},
		{"the sign-in page asks for credentials", testToken, req{"GET", "/", "", "", ""}, 401, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHTTPHandler(c, ServerOptions{AllowedOrigins: devOrigins, AuthToken: tc.token})
			var rd io.Reader
			if tc.req.method == "POST" {
				rd = bytes.NewReader(body)
			}
			r := httptest.NewRequest(tc.req.method, tc.req.path, rd)
			if tc.req.origin != "" {
				r.Header.Set("Origin", tc.req.origin)
			}
			if tc.req.auth != "" {
				r.Header.Set("Authorization", tc.req.auth)
			}
			if tc.req.method == "OPTIONS" {
				r.Header.Set("Access-Control-Request-Method", "POST")
				r.Header.Set("Access-Control-Request-Headers", tc.req.preflightHeaders)
			} else if tc.req.method == "POST" {
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Namespace", "default")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			res := w.Result()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tc.status, got)
			}
			if acao := res.Header.Get("Access-Control-Allow-Origin"); acao != tc.allowOrig {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", acao, tc.allowOrig)
			}
			if tc.allowOrig != "" && res.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("credentials not allowed for an allowed origin")
			}
			if tc.allowOrig == "" && res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed for an origin that is not")
			}
			if tc.req.method == "OPTIONS" && tc.status == 204 {
				hdrs := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
				for _, want := range strings.Split(tc.req.preflightHeaders, ",") {
					if !strings.Contains(hdrs, want) {
						t.Errorf("Access-Control-Allow-Headers %q lacks %s", hdrs, want)
					}
				}
				if m := res.Header.Get("Access-Control-Allow-Methods"); m != "POST" {
					t.Errorf("Access-Control-Allow-Methods %q, want POST", m)
				}
			}
			if !strings.Contains(res.Header.Get("Vary"), "Origin") && tc.status != 403 {
				t.Errorf("Vary %q lacks Origin: a cache could serve one origin's answer to another", res.Header.Get("Vary"))
			}
			if tc.status == 401 {
				if ch := strings.Join(res.Header.Values("WWW-Authenticate"), ", "); !strings.Contains(ch, "Basic ") || !strings.Contains(ch, "Bearer ") {
					t.Errorf("WWW-Authenticate %q, want Basic and Bearer challenges", ch)
				}
			}
			if dec := decodedHolds(t, got, clear); dec != tc.decoded {
				t.Errorf("clear text in the answer: %v, want %v (%s)", dec, tc.decoded, got)
			}
			if strings.Contains(string(got), testToken) {
				t.Error("the answer repeats the token")
			}
		})
	}
}

// decodedHolds says whether a /decode answer holds a payload whose data is clear.
func decodedHolds(t *testing.T, answer []byte, clear string) bool {
	t.Helper()
	var ps commonpb.Payloads
	if protojson.Unmarshal(answer, &ps) != nil {
		return false
	}
	for _, p := range ps.Payloads {
		if string(p.Data) == clear {
			return true
		}
	}
	return false
}

func TestCodecServerRefusesHugeBodies(t *testing.T) {
	c, _ := New(masterKey(1), nil)
	h := NewHTTPHandler(c, ServerOptions{AllowedOrigins: devOrigins})
	r := httptest.NewRequest("POST", "/decode", io.MultiReader(strings.NewReader(`{"payloads":[{"data":"`), strings.NewReader(strings.Repeat("A", maxBody+1)), strings.NewReader(`"}]}`)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code == http.StatusOK {
		t.Errorf("a body over %d bytes was decoded", maxBody)
	}
}

func TestCheckListen(t *testing.T) {
	cases := []struct {
		addr     string
		token    redact.Secret
		wantErr  bool
		wantWarn bool
	}{
		{"127.0.0.1:8234", "", false, false},
		{"127.0.0.2:8234", "", false, false},
		{"localhost:8234", "", false, false},
		{"[::1]:8234", "", false, false},
		{"0.0.0.0:8234", "", true, false},
		{":8234", "", true, false},
		{"[::]:8234", "", true, false},
		{"192.168.1.10:8234", "", true, false},
		{"codec.example:8234", "", true, false},
		{"not an address", "", true, false},
		{"0.0.0.0:8234", testToken, false, true},
		{"192.168.1.10:8234", testToken, false, true},
		{"127.0.0.1:8234", testToken, false, false},
	}
	for _, tc := range cases {
		warn, err := CheckListen(tc.addr, tc.token)
		if (err != nil) != tc.wantErr || (warn != "") != tc.wantWarn {
			t.Errorf("CheckListen(%q, token %v) = warn %q, err %v; want error %v, warning %v", tc.addr, tc.token != "", warn, err, tc.wantErr, tc.wantWarn)
		}
		if err != nil && !strings.Contains(err.Error(), "CODEC_AUTH_TOKEN") {
			t.Errorf("error %q does not say what to do", err)
		}
	}
}
