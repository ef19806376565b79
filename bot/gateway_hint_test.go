package bot

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Each way connecting fails gets the hint that matches it, per Discord's
// status and close codes: only a refused token points at DISCORD_TOKEN, an
// unreachable host at DISCORD_API_BASE; what may pass is retried, what
// cannot is not; and the URL named is the one dialled.
func TestGatewayErrorHints(t *testing.T) {
	const base = "http://127.0.0.1:1"
	gw := "https://discord.com/api/v9/gateway"
	refused := &url.Error{Op: "Get", URL: gw, Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}
	rest := func(code int) error {
		return &discordgo.RESTError{Response: &http.Response{StatusCode: code, Status: fmt.Sprint(code)}, ResponseBody: []byte("{}")}
	}
	cases := []struct {
		name  string
		err   error
		hint  string
		retry bool
	}{
		{"connection refused", refused, "check DISCORD_API_BASE and the network", true},
		{"DNS", &url.Error{Op: "Get", URL: gw, Err: &net.DNSError{Err: "no such host", Name: "discord.invalid"}}, "check DISCORD_API_BASE and the network", true},
		{"401", rest(401), "check DISCORD_TOKEN", false},
		{"403", rest(403), "check DISCORD_TOKEN", false},
		{"502", rest(502), "Discord is unavailable (HTTP 502); retrying", true},
		{"429", rest(429), "retrying", true},
		{"close 4004", &websocket.CloseError{Code: 4004}, "check DISCORD_TOKEN", false},
		{"close 4014", &websocket.CloseError{Code: 4014}, "Message Content intent", false},
		{"close 4000", &websocket.CloseError{Code: 4000}, "retrying", true},
		{"configuration", errors.New("BOT_SHARD_ID=3 is not below the 2 shards"), "check the configuration", false},
	}
	for _, tc := range cases {
		err, retry := gatewayError(tc.err, base)
		if !strings.Contains(err.Error(), tc.hint) || retry != tc.retry {
			t.Errorf("%s: %q retry %v, want %q retry %v", tc.name, err, retry, tc.hint, tc.retry)
		}
		if tc.hint != "check DISCORD_TOKEN" && strings.Contains(err.Error(), "DISCORD_TOKEN") && tc.name != "configuration" {
			t.Errorf("%s: %q points at DISCORD_TOKEN", tc.name, err)
		}
	}
	err, _ := gatewayError(refused, base)
	if !strings.Contains(err.Error(), `"`+base+`/api/v9/gateway"`) || strings.Contains(err.Error(), "discord.com") {
		t.Errorf("%q does not name the URL dialled", err)
	}
}
