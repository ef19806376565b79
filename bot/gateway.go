package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"

	"github.com/tzurot/tzurot/internal/discordhttp"
	"github.com/tzurot/tzurot/internal/redact"
)

// Gateway retry: exponential backoff from gatewayRetryFirst to
// gatewayRetryMax (cenkalti/backoff, jittered), for as long as the process
// runs. Meanwhile /readyz says the gateway is not connected.
const (
	gatewayRetryFirst = 500 * time.Millisecond
	gatewayRetryMax   = 30 * time.Second
)

// open picks the shard and opens the gateway session, retrying what may
// pass (Discord or the network unreachable, 408, 429, 5xx, a websocket
// closed with a code Discord says to reconnect after) with backoff and a
// warning per failure; what retrying cannot fix (a refused token, invalid
// intents or shard, any other 4xx, the configuration) ends it at once.
// Either way the error says what was dialled and what to check
// (gatewayError). It returns nil and the context's error when ctx ends.
func (b *Bot) open(ctx context.Context) ([2]int, error) {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval, exp.MaxInterval = gatewayRetryFirst, gatewayRetryMax
	return backoff.Retry(ctx, func() ([2]int, error) {
		shard, err := b.shard(ctx)
		if err == nil {
			err = b.Session.Open()
		}
		if err == nil {
			return shard, nil
		}
		err, retry := gatewayError(err, b.Config.DiscordAPIBase)
		if !retry {
			return shard, backoff.Permanent(err)
		}
		return shard, err
	}, backoff.WithBackOff(exp), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		b.Log.Warn("the Discord gateway is not connected; retrying", "err", err.Error(), "retry_in", next.Round(time.Millisecond).String())
	}))
}

// gatewayError is err from connecting to the gateway on one line: the URL
// actually dialled (DISCORD_API_BASE rewrites discordgo's https://discord.com,
// which Go's client would quote), and the hint that matches the failure —
// per Discord's HTTP status codes and gateway close event codes
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes) —
// and whether retrying may help.
func gatewayError(err error, apiBase string) (error, bool) {
	msg := redact.String(err.Error())
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = strings.ReplaceAll(msg, ue.URL, discordhttp.Dialled(ue.URL, apiBase))
	}
	msg = strings.Join(strings.Fields(msg), " ")
	hint, retry := gatewayHint(err)
	return fmt.Errorf("connect to the Discord gateway: %s: %s", msg, hint), retry
}

// gatewayHint is what to check for err, and whether retrying may help.
func gatewayHint(err error) (string, bool) {
	var re *discordgo.RESTError
	var ce *websocket.CloseError
	var dns *net.DNSError
	switch {
	case errors.As(err, &re) && re.Response != nil:
		switch code := re.Response.StatusCode; {
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return fmt.Sprintf("Discord refused the token (HTTP %d): check DISCORD_TOKEN (Developer Portal, Bot, Reset Token)", code), false
		case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
			return fmt.Sprintf("Discord is unavailable (HTTP %d); retrying", code), true
		default:
			return fmt.Sprintf("Discord refused the request (HTTP %d): check DISCORD_API_BASE points at Discord's API", code), false
		}
	case errors.As(err, &ce):
		switch ce.Code {
		case 4004:
			return "the gateway refused the token (close 4004): check DISCORD_TOKEN", false
		case 4013, 4014:
			return fmt.Sprintf("the gateway refused the intents (close %d): enable the Message Content intent (Developer Portal, Bot, Privileged Gateway Intents)", ce.Code), false
		case 4010, 4011:
			return fmt.Sprintf("the gateway refused the shard (close %d): check BOT_SHARD_ID and BOT_SHARD_COUNT (or BOT_SHARD_COUNT=auto)", ce.Code), false
		case 4012:
			return "the gateway refused the API version (close 4012): upgrade tzurot", false
		}
		return fmt.Sprintf("the gateway closed the connection (close %d); retrying", ce.Code), true
	case errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns):
		return "nothing answers there: check DISCORD_API_BASE and the network; retrying", true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.As(err, new(*url.Error)) || errors.Is(err, context.DeadlineExceeded) {
		return "the network failed: check it and DISCORD_API_BASE; retrying", true
	}
	return "check the configuration (DISCORD_TOKEN, DISCORD_API_BASE, BOT_SHARD_*)", false
}
