//go:build e2e

package e2e

// The benchmarks of BENCHMARKS.md: the reply path through Temporal against the
// same activities called directly, and ResolvePersonality as a local activity
// against a regular one. Run them with a fixed iteration count, e.g.
//
//	go test -tags e2e ./e2e -run '^$' -bench 'BenchmarkReply|BenchmarkResolvePersonality' -benchtime 200x -count 3 -timeout 30m

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// benchProviderLatency is the fake provider's fixed latency per chat call,
// subtracted from every reported latency.
const benchProviderLatency = 50 * time.Millisecond

// benchSeq numbers the benchmark's message and channel ids, unique in the
// process (and so in the test binary's dev server).
var benchSeq atomic.Int64

func benchSnowflake(first byte) string {
	return fmt.Sprintf("%c%017d", first, benchSeq.Add(1))
}

// benchStack is a Stack with the personality and alice's key, as
// seedPersonality and storeKey make them (they take a *testing.T).
func benchStack(b *testing.B, opts itest.Options) *itest.Stack {
	b.Helper()
	s := itest.New(b, opts)
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	ctx := context.Background()
	p := s.DB.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").
		SetSystemPrompt("You are cold.").SetErrorMessage("*static crackles*").SaveX(ctx)
	s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
	s.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Kerach").ExecX(ctx)
	u := s.DB.User.Create().SetDiscordID(aliceID).SaveX(ctx)
	sealed, err := s.Keys.Seal(userKey)
	if err != nil {
		b.Fatal(err)
	}
	s.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
	return s
}

// benchRequest runs one request of conversation channel; it returns the id of the
// Discord message posted, if any.
type benchRequest func(ctx context.Context, channel, messageID string) (posted string, err error)

type benchSample struct {
	id      string // the message id, and so the request id
	start   time.Time
	total   time.Duration
	channel string
	posted  string
	err     error
}

type benchRun struct {
	samples []benchSample
	elapsed time.Duration
	// conversations are the channels used, one per concurrent conversation.
	conversations []string
}

// runBench runs b.N requests from conc concurrent conversations (each its
// own channel, each with its own request function from newRequest), each
// conversation sending its next message as soon as the previous one is
// answered. Every conversation first sends one warm-up message outside the
// timer: it creates the channel's webhook and opens connections. With
// provider, each request is expected to make exactly one chat call, held for
// benchProviderLatency.
func runBench(b *testing.B, s *itest.Stack, conc int, newRequest func() benchRequest, provider bool) benchRun {
	b.Helper()
	n := min(conc, b.N)
	chans := make([]string, n)
	reqs := make([]benchRequest, n)
	for i := range n {
		chans[i] = benchSnowflake('9')
		reqs[i] = newRequest()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	send := func(i int) benchSample {
		id := benchSnowflake('8')
		if provider {
			// One fixed delay per chat call: each request makes exactly one,
			// which the check below holds the benchmark to.
			s.OpenRouter.Script(userKey, fakeopenrouter.Delay(benchProviderLatency))
		}
		start := time.Now()
		posted, err := reqs[i](ctx, chans[i], id)
		return benchSample{id: id, start: start, total: time.Since(start), channel: chans[i], posted: posted, err: err}
	}
	callsBefore := len(s.OpenRouter.CallsFor(userKey))

	var wg sync.WaitGroup
	warm := make([]error, n)
	for i := range n {
		wg.Go(func() { warm[i] = send(i).err })
	}
	wg.Wait()
	for _, err := range warm {
		if err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}

	r := benchRun{samples: make([]benchSample, b.N), conversations: chans}
	var next atomic.Int64
	b.ResetTimer()
	begin := time.Now()
	for i := range n {
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= int64(b.N) {
					return
				}
				r.samples[k] = send(i)
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(begin)
	b.StopTimer()
	for _, smp := range r.samples {
		if smp.err != nil {
			b.Fatal(smp.err)
		}
	}
	if calls, want := len(s.OpenRouter.CallsFor(userKey))-callsBefore, n+b.N; provider && calls != want {
		b.Fatalf("%d provider calls for %d requests: the scripted latency no longer matches", calls, want)
	}
	return r
}

// percentileMS is the nearest-rank percentile p (0 < p ≤ 100) of ds, in milliseconds.
func percentileMS(ds []time.Duration, p float64) float64 {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	k := int(float64(len(ds))*p/100+0.999999) - 1
	k = max(0, min(k, len(ds)-1))
	return float64(ds[k]) / float64(time.Millisecond)
}

// reportBenchReplies reports the latency to the reply being posted (the fake
// Discord's receipt of the webhook post) and to the end of the request
// (after SaveTurns), both minus the provider's fixed latency, and replies/s.
func reportBenchReplies(b *testing.B, s *itest.Stack, r benchRun) {
	b.Helper()
	postedAt := map[string]time.Time{}
	for _, ch := range r.conversations {
		for _, m := range s.Discord.Messages(ch) {
			postedAt[m.ID] = m.Timestamp
		}
	}
	posted := make([]time.Duration, 0, len(r.samples))
	total := make([]time.Duration, 0, len(r.samples))
	for _, smp := range r.samples {
		at, ok := postedAt[smp.posted]
		if !ok {
			b.Fatalf("reply %q is not in channel %s", smp.posted, smp.channel)
		}
		posted = append(posted, at.Sub(smp.start)-benchProviderLatency)
		total = append(total, smp.total-benchProviderLatency)
	}
	b.ReportMetric(percentileMS(posted, 50), "p50-ms")
	b.ReportMetric(percentileMS(posted, 99), "p99-ms")
	b.ReportMetric(percentileMS(total, 50), "done-p50-ms")
	b.ReportMetric(percentileMS(total, 99), "done-p99-ms")
	b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "replies/s")
}

// reportBenchHistory reads the history of every workflow of the run and reports
// the events per workflow and the time its workflow tasks waited between
// being scheduled and being picked up by the worker (the server's dispatch:
// transfer queue and matching), summed per workflow.
func reportBenchHistory(b *testing.B, s *itest.Stack, r benchRun, workflowID func(messageID string) string) {
	b.Helper()
	waits := make([]time.Duration, 0, len(r.samples))
	events := 0
	for _, smp := range r.samples {
		it := s.Client.GetWorkflowHistory(context.Background(), workflowID(smp.id), "", false, 0)
		var scheduled time.Time
		var wait time.Duration
		events = 0
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			events++
			switch ev.EventType {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
				scheduled = ev.EventTime.AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				wait += ev.EventTime.AsTime().Sub(scheduled)
			}
		}
		waits = append(waits, wait)
	}
	b.ReportMetric(float64(events), "events/wf")
	b.ReportMetric(percentileMS(waits, 50), "wft-wait-p50-ms")
}

func benchReplyInput(channel, messageID string) workflows.GenerateReplyInput {
	return workflows.GenerateReplyInput{
		RequestID: messageID, DiscordUserID: aliceID, Username: "alice", Personality: "Kerach",
		ChannelID: channel, MessageID: messageID, Content: "hello there " + messageID,
	}
}

// viaTemporal starts GenerateReply on the real worker and waits for its result.
func viaTemporal(s *itest.Stack) func() benchRequest { return temporalReplies(s, benchReplyInput) }

// temporalReplies is viaTemporal with the workflow's input made by input.
func temporalReplies(s *itest.Stack, input func(channel, messageID string) workflows.GenerateReplyInput) func() benchRequest {
	return func() benchRequest {
		return func(ctx context.Context, channel, messageID string) (string, error) {
			run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: workflows.GenerateReplyID(messageID), TaskQueue: s.TaskQueue,
			}, workflows.GenerateReplyName, input(channel, messageID))
			if err != nil {
				return "", err
			}
			var res workflows.GenerateReplyResult
			if err := run.Get(ctx, &res); err != nil {
				return "", err
			}
			if res.Outcome != workflows.ReplyReplied {
				return "", fmt.Errorf("outcome %s", res.Outcome)
			}
			return res.DiscordMessageID, nil
		}
	}
}

// benchActivityEnv is an activity context without a server: Generate heartbeats
// and PostReply reads its attempt. One per goroutine: the environment is not
// safe for concurrent use.
func benchActivityEnv(s *itest.Stack) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(s.Activities)
	return env
}

// viaActivities calls GenerateReply's activities in its order, with its inputs,
// without a server.
func viaActivities(s *itest.Stack) func() benchRequest {
	return func() benchRequest {
		env := benchActivityEnv(s)
		a := s.Activities
		return func(_ context.Context, channel, messageID string) (string, error) {
			in := benchReplyInput(channel, messageID)
			var p activities.PersonalityRef
			if err := benchActivity(env, &p, a.ResolvePersonality, activities.ResolvePersonalityInput{Ref: in.Personality, DiscordUserID: in.DiscordUserID}); err != nil {
				return "", err
			}
			var gen activities.GenerateOutput
			if err := benchActivity(env, &gen, a.Generate, activities.GenerateInput{
				RequestID: in.RequestID, DiscordUserID: in.DiscordUserID, Username: in.Username,
				PersonalityID: p.ID, ChannelID: in.ChannelID, Content: in.Content, Now: time.Now(),
			}); err != nil {
				return "", err
			}
			var id string
			if err := benchActivity(env, &id, a.PostReply, activities.PostReplyInput{
				DeliveryKey: workflows.GenerateReplyID(in.RequestID) + "/reply",
				ChannelID:   in.ChannelID, Username: p.DisplayName, AvatarURL: p.AvatarURL, Content: gen.Text,
			}); err != nil {
				return "", err
			}
			err := benchActivity(env, nil, a.SaveTurns, activities.SaveTurnsInput{
				PersonalityID: p.ID, ChannelID: in.ChannelID, GuildID: in.GuildID,
				DiscordUserID: in.DiscordUserID, Username: in.Username,
				UserContent: in.Content, UserMessageID: in.MessageID,
				ReplyContent: gen.Text, ReplyReasoning: gen.Reasoning, ReplyMessageID: id,
			})
			return id, err
		}
	}
}

func benchActivity(env *testsuite.TestActivityEnvironment, out any, fn any, args ...any) error {
	v, err := env.ExecuteActivity(fn, args...)
	if err != nil || out == nil {
		return err
	}
	return v.Get(out)
}

// BenchmarkReply: GenerateReply through Temporal against its activities
// called directly, at 1 and 20 concurrent conversations.
func BenchmarkReply(b *testing.B) {
	s := benchStack(b, itest.Options{})
	paths := []struct {
		name string
		req  func(*itest.Stack) func() benchRequest
	}{{"temporal", viaTemporal}, {"direct", viaActivities}}
	for _, path := range paths {
		b.Run(path.name, func(b *testing.B) {
			for _, conc := range []int{1, 20} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
					r := runBench(b, s, conc, path.req(s), true)
					reportBenchReplies(b, s, r)
					if path.name == "temporal" {
						reportBenchHistory(b, s, r, workflows.GenerateReplyID)
					}
				})
			}
		})
	}
}

// The workflows of BenchmarkResolvePersonality: ResolvePersonality alone, with
// GenerateReply's options, as a local and as a regular activity.
const (
	benchResolveLocalName   = "BenchResolvePersonalityLocal"
	benchResolveRegularName = "BenchResolvePersonalityRegular"
)

var benchActs *activities.Activities

func resolveID(messageID string) string { return "bench-resolve/" + messageID }

var benchResolveRetry = &temporal.RetryPolicy{
	MaximumAttempts:        5,
	NonRetryableErrorTypes: []string{activities.ErrNotFound, activities.ErrBadInput},
}

// benchResolve is the workflow that runs ResolvePersonality once, as a
// local activity or as a regular one.
func benchResolve(local bool) func(workflow.Context, string) (activities.PersonalityRef, error) {
	return func(ctx workflow.Context, ref string) (activities.PersonalityRef, error) {
		in := activities.ResolvePersonalityInput{Ref: ref, DiscordUserID: "100000000000000001"}
		var f workflow.Future
		if local {
			ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
				StartToCloseTimeout: 5 * time.Second, RetryPolicy: benchResolveRetry,
			})
			f = workflow.ExecuteLocalActivity(ctx, benchActs.ResolvePersonality, in)
		} else {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
				StartToCloseTimeout: 5 * time.Second, RetryPolicy: benchResolveRetry,
			})
			f = workflow.ExecuteActivity(ctx, benchActs.ResolvePersonality, in)
		}
		var p activities.PersonalityRef
		err := f.Get(ctx, &p)
		return p, err
	}
}

// BenchmarkResolvePersonality: the cost of ResolvePersonality as a local
// activity, as a regular activity (each in a workflow that does only that), and
// called directly, at 1 and 20 concurrent callers.
func BenchmarkResolvePersonality(b *testing.B) {
	s := benchStack(b, itest.Options{})
	queue := s.TaskQueue + "-resolve"
	w := sdkworker.New(s.Client, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(benchResolve(true), workflow.RegisterOptions{Name: benchResolveLocalName})
	w.RegisterWorkflowWithOptions(benchResolve(false), workflow.RegisterOptions{Name: benchResolveRegularName})
	w.RegisterActivity(s.Activities)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)

	viaWorkflow := func(name string) func() benchRequest {
		return func() benchRequest {
			return func(ctx context.Context, _, messageID string) (string, error) {
				run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: resolveID(messageID), TaskQueue: queue,
				}, name, "Kerach")
				if err != nil {
					return "", err
				}
				var p activities.PersonalityRef
				if err := run.Get(ctx, &p); err != nil {
					return "", err
				}
				if p.DisplayName != "Kerach" {
					return "", fmt.Errorf("resolved %+v", p)
				}
				return "", nil
			}
		}
	}
	directly := func() benchRequest {
		env := benchActivityEnv(s)
		return func(_ context.Context, _, _ string) (string, error) {
			var p activities.PersonalityRef
			return "", benchActivity(env, &p, s.Activities.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "Kerach", DiscordUserID: "100000000000000001"})
		}
	}
	kinds := []struct {
		name string
		req  func() benchRequest
	}{
		{"local", viaWorkflow(benchResolveLocalName)},
		{"regular", viaWorkflow(benchResolveRegularName)},
		{"direct", directly},
	}
	for _, kind := range kinds {
		b.Run(kind.name, func(b *testing.B) {
			for _, conc := range []int{1, 20} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
					r := runBench(b, s, conc, kind.req, false)
					ds := make([]time.Duration, len(r.samples))
					for i, smp := range r.samples {
						ds[i] = smp.total
					}
					b.ReportMetric(percentileMS(ds, 50), "p50-ms")
					b.ReportMetric(percentileMS(ds, 99), "p99-ms")
					b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "ops/s")
					if kind.name != "direct" {
						reportBenchHistory(b, s, r, resolveID)
					}
				})
			}
		})
	}
}
