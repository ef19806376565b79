//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/workflows"
)

// benchStreamRate is the pace: 400 tokens (the stand-in's four
// characters a token), generated at 50 tokens/s after 0.5 s.
var (
	benchStreamRate = fakeopenrouter.StreamRate{FirstToken: 500 * time.Millisecond, TokensPerSecond: 50}
	// benchStreamSeq numbers the messages, so each has its own request id.
	benchStreamSeq atomic.Int64
)

// benchStreamConvs is how many conversations the benchmark runs at most.
const benchStreamConvs = 20

// benchConv is one conversation: its own user, OpenRouter key and reply,
// so that replies sharing a channel are told apart by their text.
type benchConv struct{ user, key, reply string }

// benchStreamReply is conversation c's reply: "cNN " and 399 × "tok ",
// 400 tokens, trimmed.
func benchStreamReply(c int) string {
	return strings.TrimSpace(fmt.Sprintf("c%02d ", c) + strings.Repeat("tok ", 399))
}

// benchConvs makes the conversations' users, each with a key of their own.
func benchConvs(b *testing.B, s *itest.Stack) []benchConv {
	ctx := context.Background()
	convs := make([]benchConv, benchStreamConvs)
	for c := range convs {
		convs[c] = benchConv{
			user: fmt.Sprintf("1212121212121212%02d", c), key: fmt.Sprintf("sk-or-v1-%064d", c), reply: benchStreamReply(c),
		}
		s.OpenRouter.AddKey(convs[c].key, fakeopenrouter.Key{})
		u := s.DB.User.Create().SetDiscordID(convs[c].user).SaveX(ctx)
		sealed, err := s.Keys.Seal(convs[c].key)
		if err != nil {
			b.Fatal(err)
		}
		s.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
	}
	return convs
}

// BenchmarkStreamedReply: from the start of GenerateReply (the user's
// message) to the first text shown in the channel and to the complete
// reply shown, with streaming off and on, at 1 and 20 concurrent
// conversations, each in its own channel, and at 20 in 4 channels (5 a
// channel, so 5 replies share a webhook and its rate limit). Reported: p50
// and p95 of both, in seconds, and the 429s Discord's stand-in sent (all
// waited out: early retries are counted apart and must be 0); each reply
// must end as exactly one message holding the whole text.
func BenchmarkStreamedReply(b *testing.B) {
	s := benchStack(b, itest.Options{})
	convs := benchConvs(b, s)
	for _, mode := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run("stream="+mode.name, func(b *testing.B) {
			s.Activities.StreamsReplies = func(*ent.Personality) bool { return mode.on }
			for _, v := range []struct {
				name           string
				conc, channels int
			}{{"conc=1", 1, 1}, {"conc=20", 20, 20}, {"conc=20,channels=4", 20, 4}} {
				b.Run(v.name, func(b *testing.B) { benchStreamed(b, s, convs[:v.conc], v.channels) })
			}
		})
	}
}

// benchStreamed answers b.N messages over the conversations, conversation c
// in channel c modulo channels, and reports the times to first text and to
// the complete reply.
func benchStreamed(b *testing.B, s *itest.Stack, convs []benchConv, channels int) {
	limited, early := metrics.Sum("tzurot_discord_rate_limited_total", nil), s.Discord.EarlyRetries()
	var (
		mu              sync.Mutex
		first, complete []time.Duration
		next            int
	)
	b.ResetTimer()
	var wg sync.WaitGroup
	for c, conv := range convs {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= b.N {
					return
				}
				s.OpenRouter.Script(conv.key, fakeopenrouter.Reply(conv.reply, "").Paced(benchStreamRate))
				n := benchStreamSeq.Add(1)
				f, d, err := benchStreamedOne(s, conv, fmt.Sprintf("93%017d", c%channels), fmt.Sprintf("83%017d", n))
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				first, complete = append(first, f), append(complete, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(percentile(first, 50).Seconds(), "first-p50-s")
	b.ReportMetric(percentile(first, 95).Seconds(), "first-p95-s")
	b.ReportMetric(percentile(complete, 50).Seconds(), "complete-p50-s")
	b.ReportMetric(percentile(complete, 95).Seconds(), "complete-p95-s")
	b.ReportMetric(metrics.Sum("tzurot_discord_rate_limited_total", nil)-limited, "429s")
	if n := s.Discord.EarlyRetries() - early; n != 0 {
		b.Errorf("%d requests came back before Discord's retry_after", n)
	}
}

// benchStreamedOne runs one reply of conv in channel and returns when the
// channel first showed text of it and when it showed the whole reply; it
// fails unless the reply ends as exactly one message holding the whole text.
func benchStreamedOne(s *itest.Stack, conv benchConv, channel, messageID string) (first, complete time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := len(s.Discord.Messages(channel)) // earlier replies in the channel
	ours := func() []fakediscord.Message {
		var out []fakediscord.Message
		for _, m := range shown(s.Discord.Messages(channel)[before:]) {
			if t := strings.TrimSpace(m.Content); t != "" && strings.HasPrefix(conv.reply, t) {
				out = append(out, m)
			}
		}
		return out
	}
	start := time.Now()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(messageID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: messageID, DiscordUserID: conv.user, Username: "user" + conv.user[len(conv.user)-2:], Personality: "Kerach",
		ChannelID: channel, MessageID: messageID, Content: "hello there " + messageID,
	})
	if err != nil {
		return 0, 0, err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for complete == 0 {
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("reply %s not complete in the channel after 2 minutes", messageID)
		case <-tick.C:
		}
		for _, m := range ours() {
			if first == 0 {
				first = time.Since(start)
			}
			if m.Content == conv.reply {
				complete = time.Since(start)
			}
		}
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.ReplyReplied {
		return 0, 0, fmt.Errorf("reply %s: outcome %q, err %v", messageID, res.Outcome, err)
	}
	if got := ours(); len(got) != 1 || got[0].Content != conv.reply {
		return 0, 0, fmt.Errorf("reply %s ended as %d messages of its text, want 1 holding it whole", messageID, len(got))
	}
	return first, complete, nil
}

// percentile is the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
