//go:build integration

package activities_test

// Delivery's edges: attachments resent whole after a webhook is remade or
// refused, channels that cannot have a webhook for any reason, a failed
// look-up that must not post twice, OpenRouter's daily cap without a
// long wait in its headers.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeelevenlabs "github.com/tzurot/tzurot/internal/fakes/elevenlabs"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/store"
)

func TestVoiceAudioSurvivesAWebhookRemade(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	if _, err := f.speakKey("reply/a/reply", "first one"); err != nil {
		t.Fatal(err)
	}
	f.discord.DeleteWebhooks(channelID)
	remade := metrics.Sum("tzurot_webhook_recreations_total", nil)
	if _, err := f.speakKey("reply/b/reply", "second one"); err != nil {
		t.Fatal(err)
	}
	if n := metrics.Sum("tzurot_webhook_recreations_total", nil) - remade; n != 1 {
		t.Errorf("tzurot_webhook_recreations_total grew by %v, want 1", n)
	}
	msgs := f.discord.Messages(channelID)
	for _, a := range msgs[len(msgs)-1].Attachments {
		if !bytes.Equal(a.Data, fakeelevenlabs.MP3("second one")) {
			t.Errorf("audio after the webhook was remade: %d bytes, want the speech", len(a.Data))
		}
	}
}

func TestVoiceAudioSurvivesTheBotFallback(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.withVoice(t)
	f.storeVoiceKey(t, voiceKey, true)
	f.discord.RefuseWebhookUsernames("kerach")
	if _, err := f.speakKey("reply/a/reply", "hello there"); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.discord.Messages(channelID) {
		for _, a := range m.Attachments {
			if len(a.Data) == 0 {
				t.Errorf("bot fallback %q carries an empty %s", m.Content, a.Filename)
			}
		}
	}
}

func TestImageSurvivesARetriedUpload(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.storeKey(t, userKey, true)
	f.imageConfig(t, map[string]any{})
	f.discord.DropNext("POST /channels/{channel_id}/messages")
	if _, err := f.imagine("imagine/9/post"); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.discord.Messages(channelID) {
		for _, a := range m.Attachments {
			if !bytes.HasPrefix(a.Data, []byte("\x89PNG")) {
				t.Errorf("image re-uploaded as %d bytes", len(a.Data))
			}
		}
	}
}

func wrapDiscord(t *testing.T, f *fixture, match func(*http.Request) bool, status int, body string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match(r) {
			_, _ = io.Copy(io.Discard, r.Body) // drained only, so the client may reuse the connection
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			// A failed write fails the client's call, which the test then reports.
			_, _ = io.WriteString(w, body)
			return
		}
		f.discord.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	f.acts.Discord = s
}

// Where Discord refuses the channel's webhooks — the guild at its webhook
// limit, or a channel type without webhooks — the reply is posted as the bot.
func TestWebhookRefusalsPostAsTheBot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuses func(r *http.Request) bool
		body    string
	}{
		{"the guild's webhook limit", func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/webhooks") && strings.Contains(r.URL.Path, "/channels/")
		}, `{"message": "Maximum number of webhooks per guild reached (1000)", "code": 30058}`},
		{"a channel type without webhooks", func(r *http.Request) bool {
			return strings.HasSuffix(r.URL.Path, "/webhooks") && strings.Contains(r.URL.Path, "/channels/")
		}, `{"message": "Cannot execute action on this channel type", "code": 50024}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, config.GuestOff, "m")
			wrapDiscord(t, f, tc.refuses, 400, tc.body)
			if _, err := f.env.ExecuteActivity(f.acts.PostReply, activities.PostReplyInput{
				DeliveryKey: "reply/1/reply", ChannelID: channelID, Username: "Kerach", Content: "hi"}); err != nil {
				t.Errorf("reply lost: %v", err)
			}
		})
	}
}

func TestFailedLookupDoesNotPostTwice(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	var failGet atomic.Bool
	wrapDiscord(t, f, func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/messages") && failGet.CompareAndSwap(true, false)
	}, 500, `{"message": "500: Internal Server Error", "code": 0}`)
	f.postReply(t, activities.PostReplyInput{DeliveryKey: "reply/w/reply", ChannelID: channelID, Username: "Kerach", Content: "warm"})
	f.discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	in := activities.PostReplyInput{DeliveryKey: "reply/r/reply", ChannelID: channelID, Username: "Kerach", Content: "only once"}
	_, _ = f.env.ExecuteActivity(f.acts.PostReply, in) // Discord took it; the answer was lost
	failGet.Store(true)
	// Not knowing whether it was posted is a failure to retry, not "no".
	if _, err := f.env.ExecuteActivity(f.acts.PostReply, in); err == nil {
		t.Fatal("a retry whose look-up failed posted anyway")
	}
	if _, err := f.env.ExecuteActivity(f.acts.PostReply, in); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range f.discord.Messages(channelID) {
		if m.Content == "only once" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d copies of the reply after a retry whose lookup got a 500", n)
	}
}

func TestDailyCapIsToldWithoutALongWait(t *testing.T) {
	for name, hdr := range map[string]map[string]string{
		"no reset header":                   {},
		"Retry-After 1 with reset tomorrow": {"Retry-After": "1", "X-RateLimit-Reset": "4102444800000", "X-RateLimit-Remaining": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, config.GuestOff, "meta-llama/llama-3.3-70b-instruct:free")
			f.storeKey(t, userKey, true)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // drained only, so the client may reuse the connection
				for k, v := range hdr {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(429)
				// A failed write fails the client's call, which the test then reports.
				_, _ = io.WriteString(w, `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day","metadata":{"headers":{"X-RateLimit-Limit":"50","X-RateLimit-Remaining":"0"}}}}`)
			}))
			defer srv.Close()
			f.acts.OpenRouter = openrouter.New(openrouter.Options{BaseURL: srv.URL + "/api/v1"})
			if _, err := f.generate(t); errType(err) != activities.ErrQuotaExhausted {
				t.Errorf("daily cap: %s (retried, then the generic error message), want QuotaExhausted", errType(err))
			}
		})
	}
}

// A's retry looks for its lost post (which never reached Discord) while
// B, with the same text, has posted but not yet recorded: A may take B's
// message, alike as they are, but B's record is then refused and B posts
// again, so each ends with a message of its own and none is shared.
func TestRetryTakingAnotherDeliverysPostLeavesEachItsOwn(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	ctx := context.Background()
	f.postReply(t, activities.PostReplyInput{DeliveryKey: "reply/w/reply", ChannelID: channelID, Username: "Kerach", Content: "warm"})
	// A began posting; its post never reached Discord.
	f.db.Delivery.Create().SetKey("reply/A/reply/0").SetChannelID(channelID).SetDiscordMessageID("").ExecX(ctx)
	var s testsuite.WorkflowTestSuite
	envA := s.NewTestActivityEnvironment()
	envA.RegisterActivity(f.acts)
	var once atomic.Bool
	var aID string
	var aErr error
	aDone := make(chan struct{})
	f.discord.SetOnMessage(func(m fakediscord.Message) {
		if m.Content != "Hello!" || !once.CompareAndSwap(false, true) {
			return
		}
		// A's retry runs while B's post is made but not yet recorded: B's
		// answer waits until A has looked at the channel and the
		// deliveries (A's own post then waits on the webhook's rate-limit
		// bucket, which B's request holds).
		before := len(f.discord.Requests())
		go func() {
			defer close(aDone)
			v, err := envA.ExecuteActivity(f.acts.PostReply, activities.PostReplyInput{
				DeliveryKey: "reply/A/reply", ChannelID: channelID, Username: "Kerach", Content: "Hello!"})
			if aErr = err; err == nil {
				aErr = v.Get(&aID)
			}
		}()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			reqs := f.discord.Requests()
			if len(reqs) > before && reqs[len(reqs)-1].Method == http.MethodGet {
				break
			}
		}
		time.Sleep(500 * time.Millisecond)
	})
	bID := f.postReply(t, activities.PostReplyInput{DeliveryKey: "reply/B/reply", ChannelID: channelID, Username: "Kerach", Content: "Hello!"})
	<-aDone
	if aErr != nil {
		t.Fatal(aErr)
	}
	var hello []string
	for _, m := range f.discord.Messages(channelID) {
		if m.Content == "Hello!" {
			hello = append(hello, m.ID)
		}
	}
	if aID == bID || len(hello) != 2 || !slices.Contains(hello, aID) || !slices.Contains(hello, bID) {
		t.Errorf("A recorded %s, B %s, the channel holds %v: want two messages, one each (%d deliveries on B's)", aID, bID, hello,
			f.db.Delivery.Query().Where(delivery.DiscordMessageID(bID)).CountX(ctx))
	}
}

// An upstream that fails mid-answer inside a 200 (an error object in the
// choice) after generating tokens: OpenRouter reports their usage, and
// they get their row like any call's; the failure stays retryable.
func TestMidAnswerErrorRecordsItsUsage(t *testing.T) {
	f := newFixture(t, config.GuestOff, "meta-llama/llama-3.3-70b-instruct:free")
	f.storeKey(t, userKey, true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // drained only, so the client may reuse the connection
		w.Header().Set("Content-Type", "application/json")
		// A failed write fails the client's call, which the test then reports.
		_, _ = io.WriteString(w, `{"id":"gen-1","object":"chat.completion","created":1,"model":"meta-llama/llama-3.3-70b-instruct:free",
			"choices":[{"index":0,"finish_reason":"error","native_finish_reason":"error","message":{"role":"assistant","content":"half an ans"},
			"error":{"code":502,"message":"Upstream error: connection reset"}}],
			"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}`)
	}))
	defer srv.Close()
	f.acts.OpenRouter = openrouter.New(openrouter.Options{BaseURL: srv.URL + "/api/v1"})
	ctx := context.Background()
	before := f.db.UsageLog.Query().CountX(ctx)
	_, err := f.generate(t)
	if errType(err) != activities.ErrUnavailable {
		t.Fatalf("err = %v, want a retryable Unavailable", err)
	}
	rows := f.db.UsageLog.Query().AllX(ctx)
	if len(rows)-before != 1 || rows[len(rows)-1].TokensTotal != 52 {
		t.Errorf("%d new usage rows, want 1 of 52 tokens", len(rows)-before)
	}
}

// A's post reached Discord but its answer was lost; while another
// delivery of another text is still pending in the channel (many replies
// in flight, on several workers), A's retry adopts its own message: a
// pending post of another text cannot have made it.
func TestRetryAdoptsItsPostBesideAnotherPendingText(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	ctx := context.Background()
	f.postReply(t, activities.PostReplyInput{DeliveryKey: "reply/w/reply", ChannelID: channelID, Username: "Kerach", Content: "warm"})
	in := activities.PostReplyInput{DeliveryKey: "reply/A/reply", ChannelID: channelID, Username: "Kerach", Content: "Hello!"}
	f.discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	if _, err := f.env.ExecuteActivity(f.acts.PostReply, in); err == nil {
		t.Fatal("the post whose answer was lost succeeded")
	}
	// B began posting another text and has not recorded it.
	if err := store.New(f.db).BeginDelivery(ctx, "reply/B/reply/0", channelID, nil); err != nil {
		t.Fatal(err)
	}
	id := f.postReply(t, in)
	var copies []string
	for _, m := range f.discord.Messages(channelID) {
		if m.Content == "Hello!" {
			copies = append(copies, m.ID)
		}
	}
	if len(copies) != 1 || copies[0] != id {
		t.Errorf("messages %v for A, which recorded %s: want its one post adopted", copies, id)
	}
}

// Two workers (two Activities, each with its own webhook cache) post at
// once in channels that have no webhook yet: both may make one, but they
// settle on the oldest and the other is deleted, so every post of a
// channel goes through one webhook — the one a retry on either worker
// looks for its lost post under.
func TestWorkersShareOneWebhookPerChannel(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	srv := httptest.NewServer(f.discord)
	t.Cleanup(srv.Close)
	session, err := discordhttp.Session("test-token", srv.URL) // its own rate-limit buckets, as another process has
	if err != nil {
		t.Fatal(err)
	}
	other := &activities.Activities{DB: f.acts.DB, SQL: f.acts.SQL, Keys: f.keys, Discord: session, Log: f.acts.Log}
	acts := []*activities.Activities{f.acts, other}
	// A TestActivityEnvironment is not safe for concurrent use (its
	// activity handles are a plain map), so each post gets its own,
	// made before any goroutine starts.
	var s testsuite.WorkflowTestSuite
	type post struct {
		env            *testsuite.TestActivityEnvironment
		channel        string
		worker, number int
	}
	var posts []post
	for c := range 10 {
		channel := fmt.Sprintf("9100000000000000%02d", c)
		for w := range 2 {
			for n := range 2 {
				env := s.NewTestActivityEnvironment()
				env.RegisterActivity(acts[w])
				posts = append(posts, post{env, channel, w, n})
			}
		}
	}
	var wg sync.WaitGroup
	for _, p := range posts {
		channel, w, n := p.channel, p.worker, p.number
		wg.Go(func() {
			_, err := p.env.ExecuteActivity(acts[w].PostReply, activities.PostReplyInput{
				DeliveryKey: fmt.Sprintf("reply/%s-%d-%d/reply", channel, w, n), ChannelID: channel, Username: "Kerach",
				Content: fmt.Sprintf("reply %d of worker %d", n, w),
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	raced := 0
	for c := range 10 {
		channel := fmt.Sprintf("9100000000000000%02d", c)
		hooks := map[string]int{}
		for _, m := range f.discord.Messages(channel) {
			hooks[m.WebhookID]++
		}
		if len(hooks) != 1 || hooks[""] != 0 {
			t.Errorf("channel %s: posts by webhook %v, want all 4 through one", channel, hooks)
		}
		if f.discord.WebhooksCreated(channel) > 1 {
			raced++
		}
		live, err := f.acts.Discord.ChannelWebhooks(channel)
		if err != nil || len(live) != 1 {
			t.Errorf("channel %s: webhooks %d (%v), want the one kept", channel, len(live), err)
		}
	}
	t.Logf("%d of 10 channels had two webhooks made at once", raced)
}
