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
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/workflows"
)

// benchStreamReply is the reply: 400 tokens (the stand-in's four
// characters a token), generated at 50 tokens/s after 0.5 s.
var (
	benchStreamReply = strings.TrimSpace(strings.Repeat("tok ", 400))
	benchStreamRate  = fakeopenrouter.StreamRate{FirstToken: 500 * time.Millisecond, TokensPerSecond: 50}
	// benchStreamSeq numbers the messages, so each has its own request id.
	benchStreamSeq atomic.Int64
)

// BenchmarkStreamedReply: from the start of GenerateReply (the user's
// message) to the first text shown in the channel and to the complete
// reply shown, with streaming off and on, at 1 and 20 concurrent
// conversations, each conversation in its own channel. Reported: p50 and
// p95 of both, in seconds, and the 429s Discord's stand-in sent (all waited
// out: early retries are counted apart and must be 0).
func BenchmarkStreamedReply(b *testing.B) {
	s := benchStack(b, itest.Options{})
	for _, mode := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		b.Run("stream="+mode.name, func(b *testing.B) {
			s.Activities.StreamsReplies = func(*ent.Personality) bool { return mode.on }
			for _, conc := range []int{1, 20} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchStreamed(b, s, conc) })
			}
		})
	}
}

// benchStreamed answers b.N messages over conc conversations and reports
// the times to first text and to the complete reply.
func benchStreamed(b *testing.B, s *itest.Stack, conc int) {
	for range b.N {
		s.OpenRouter.Script(userKey, fakeopenrouter.Reply(benchStreamReply, "").Paced(benchStreamRate))
	}
	limited, early := metrics.Sum("tzurot_discord_rate_limited_total", nil), s.Discord.EarlyRetries()
	var (
		mu              sync.Mutex
		first, complete []time.Duration
		next            int
	)
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= b.N {
					return
				}
				n := benchStreamSeq.Add(1)
				f, d, err := benchStreamedOne(s, fmt.Sprintf("93%017d", c), fmt.Sprintf("83%017d", n))
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				first, complete = append(first, f), append(complete, d)
				mu.Unlock()
			}
		}()
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

// benchStreamedOne runs one reply in channel and returns when the channel
// first showed text and when it showed the whole reply.
func benchStreamedOne(s *itest.Stack, channel, messageID string) (first, complete time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := len(s.Discord.Messages(channel)) // earlier replies in the conversation
	start := time.Now()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(messageID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, benchReplyInput(channel, messageID))
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
		for _, m := range shown(s.Discord.Messages(channel)[before:]) {
			if first == 0 && strings.TrimSpace(m.Content) != "" {
				first = time.Since(start)
			}
			if m.Content == benchStreamReply {
				complete = time.Since(start)
			}
		}
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.ReplyReplied {
		return 0, 0, fmt.Errorf("reply %s: outcome %q, err %v", messageID, res.Outcome, err)
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
