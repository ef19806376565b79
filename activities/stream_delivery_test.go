//go:build integration

package activities_test

// Streaming delivery (StreamWriter) against the Discord stand-in and its
// per-webhook rate limit: the end state is the whole reply split as
// PostReply splits it, edits keep Discord's pace, and a retry from a
// heartbeated Progress (or from none, in the crash window) continues the
// same messages.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/delivery"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/testdb"
)

const wholeChannelID = "900000000000000002"

type streamFixture struct {
	acts    *activities.Activities
	discord *fakediscord.Server
	url     string
}

func newStreamFixture(t *testing.T, opts fakediscord.Options) *streamFixture {
	t.Helper()
	dc := fakediscord.New(opts)
	srv := httptest.NewServer(dc)
	t.Cleanup(srv.Close)
	f := &streamFixture{discord: dc, url: srv.URL}
	db, sqlDB := testdb.Client(t)
	f.acts = &activities.Activities{DB: db, SQL: sqlDB, Log: slog.New(slog.DiscardHandler)}
	f.acts.Discord = f.session(t, "worker-0")
	return f
}

// session is a Discord session of its own (another worker process, with
// its own view of the rate limits), told apart by its User-Agent.
func (f *streamFixture) session(t *testing.T, userAgent string) *discordgo.Session {
	t.Helper()
	s, err := discordhttp.Session("test-token", f.url)
	if err != nil {
		t.Fatal(err)
	}
	s.UserAgent = userAgent
	return s
}

func target(key string) activities.StreamTarget {
	return activities.StreamTarget{DeliveryKey: key, ChannelID: channelID, Username: "Kerach", AvatarURL: "https://cdn.example/k.png"}
}

// live is the channel's messages that were not deleted.
func (f *streamFixture) live(channel string) []fakediscord.Message {
	return slices.DeleteFunc(f.discord.Messages(channel), func(m fakediscord.Message) bool { return m.Deleted })
}

func contents(ms []fakediscord.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Content
	}
	return out
}

// wholeParts is what PostReply posts for text: the whole-reply path's split.
func (f *streamFixture) wholeParts(t *testing.T, text string) []string {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	before := len(f.live(wholeChannelID))
	if _, err := env.ExecuteActivity(f.acts.PostReply, activities.PostReplyInput{
		DeliveryKey: fmt.Sprintf("whole/%d/reply", time.Now().UnixNano()), ChannelID: wholeChannelID, Username: "Kerach", Content: text,
	}); err != nil {
		t.Fatal(err)
	}
	return contents(f.live(wholeChannelID)[before:])
}

// reply is a model's answer of about n tokens, with a fenced code block
// that straddles the 2,000-character cut.
func reply(seed string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n*13/2; i++ {
		if i == 24 {
			b.WriteString("```go\n")
			for j := range 14 {
				fmt.Fprintf(&b, "fmt.Println(%q, %d) // %s line\n", seed, j, seed)
			}
			b.WriteString("```\n\n")
		}
		fmt.Fprintf(&b, "Sentence %d of %s's answer says a little more. ", i, seed)
		if i%5 == 4 {
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

// tokens cuts text into pieces of about 6.5 bytes, on rune boundaries.
func tokens(text string) []string {
	var out []string
	for i := 0; len(text) > 0; i++ {
		cut := min(6+i%2, len(text))
		for cut < len(text) && !utf8RuneStart(text[cut]) {
			cut++
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return out
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// feed updates w with the text growing token by token, one per every.
func feed(ctx context.Context, w *activities.StreamWriter, toks []string, every time.Duration) error {
	var so string
	for _, tok := range toks {
		so += tok
		if err := w.Update(ctx, so); err != nil {
			return err
		}
		time.Sleep(every)
	}
	return nil
}

func (f *streamFixture) webhookPosts() int {
	n := 0
	for _, r := range f.discord.Requests() {
		if r.Route == "POST /webhooks/{webhook_id}/{webhook_token}" && (r.Status == 200 || r.Status == 0) {
			n++
		}
	}
	return n
}

// A 400-token reply at 50 tokens/s under Discord's own limits (5 per 2 s
// per webhook): the first text shows within about a second, edits keep one
// per message per interval, no 429 goes unheeded, and the end is the whole
// reply split exactly as PostReply splits it.
func TestStreamEndsAsTheWholeReply(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	text := reply("kerach", 400)
	w := activities.NewStreamWriter(f.acts, target("s1/reply"), activities.Progress{})
	var beats []activities.Progress
	w.OnProgress = func(p activities.Progress) { beats = append(beats, p) }
	start := time.Now()
	if err := feed(ctx, w, tokens(text), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ids, err := w.Finish(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	got := f.live(channelID)
	want := f.wholeParts(t, text)
	if len(want) < 2 || !slices.Equal(contents(got), want) {
		t.Fatalf("streamed parts (%d) differ from the whole reply's (%d):\n%q\n%q", len(got), len(want), contents(got), want)
	}
	for i, m := range got {
		if m.ID != ids[i] || m.Author.Username != "Kerach" || m.WebhookID == "" {
			t.Errorf("message %d = %s by %q (webhook %q), Finish said %s", i, m.ID, m.Author.Username, m.WebhookID, ids[i])
		}
	}
	if first := got[0].Timestamp.Sub(start); first > 1500*time.Millisecond {
		t.Errorf("first text after %v, want within about a second", first)
	}
	if len(got[0].History) < 4 {
		t.Errorf("first message written %d times, want it to grow by edits", len(got[0].History))
	}
	if n := f.discord.EarlyRetries(); n != 0 {
		t.Errorf("%d requests came back before retry_after", n)
	}
	// Edits of one message while streaming are an interval apart; only
	// Finish's may come sooner.
	edits := map[string][]time.Time{}
	for _, r := range f.discord.Requests() {
		if r.Route == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}" && r.Status == 200 {
			id := r.Path[strings.LastIndex(r.Path, "/")+1:]
			edits[id] = append(edits[id], r.Time)
		}
	}
	for id, ts := range edits {
		for i := 1; i < len(ts)-1; i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < activities.DefaultEditInterval {
				t.Errorf("message %s edited %v after its last edit, want at least %v", id, gap, activities.DefaultEditInterval)
			}
		}
	}
	last := beats[len(beats)-1]
	if len(last.Messages) != len(ids) || last.Messages[0].ID != ids[0] || last.Messages[0].Len == 0 {
		t.Errorf("last heartbeat = %+v", last)
	}
}

// Twenty replies streaming at once through one channel's webhook from four
// workers (each its own view of the rate limit, so they meet 429s), with
// the limit scaled down tenfold (5 per 200 ms): each ends complete and no
// worker comes back before the retry_after of a 429 it was answered.
func TestStreamTwentyWritersShareAWebhook(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{WebhookLimit: 5, WebhookWindow: 200 * time.Millisecond})
	ctx := context.Background()
	workers := []*activities.Activities{f.acts}
	for i := 1; i < 4; i++ {
		workers = append(workers, &activities.Activities{DB: f.acts.DB, SQL: f.acts.SQL, Log: f.acts.Log,
			Discord: f.session(t, fmt.Sprintf("worker-%d", i))})
	}
	var wg sync.WaitGroup
	ids := make([][]string, 20)
	texts := make([]string, 20)
	errs := make([]error, 20)
	for i := range 20 {
		texts[i] = reply(fmt.Sprintf("writer%02d", i), 340)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := activities.NewStreamWriter(workers[i%4], target(fmt.Sprintf("s20-%d/reply", i)), activities.Progress{})
			w.EditInterval = 120 * time.Millisecond
			if errs[i] = feed(ctx, w, tokens(texts[i]), 2*time.Millisecond); errs[i] == nil {
				ids[i], errs[i] = w.Finish(ctx, texts[i])
			}
		}()
	}
	wg.Wait()
	byID := map[string]string{}
	for _, m := range f.live(channelID) {
		byID[m.ID] = m.Content
	}
	for i := range 20 {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		var got []string
		for _, id := range ids[i] {
			got = append(got, byID[id])
		}
		if want := f.wholeParts(t, texts[i]); !slices.Equal(got, want) {
			t.Errorf("writer %d ended with %q, want %q", i, got, want)
		}
	}
	if n := len(byID); n != 40 {
		t.Errorf("%d messages in the channel, want 2 for each of 20 replies", n)
	}
	limited := 0
	for _, r := range f.discord.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Error("no 429 met: the test does not exercise backing off")
	}
	if n := f.discord.EarlyRetries(); n != 0 {
		t.Errorf("%d of %d 429s not waited out", n, limited)
	}
	t.Logf("%d requests, %d answered 429", len(f.discord.Requests()), limited)
}

// killedAttempt streams text under key and stops, as a worker killed
// mid-reply: its last heartbeat's Progress, which must hold msgs messages.
func (f *streamFixture) killedAttempt(t *testing.T, key, text string, msgs int) activities.Progress {
	t.Helper()
	w := activities.NewStreamWriter(f.acts, target(key), activities.Progress{})
	var beat activities.Progress
	w.OnProgress = func(p activities.Progress) { beat = p }
	if err := w.Update(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	if len(beat.Messages) != msgs {
		t.Fatalf("heartbeat after the first attempt = %+v, want %d messages", beat, msgs)
	}
	return beat
}

// A retry from the last heartbeat edits the messages the killed attempt
// posted, to the retry's (different) answer, and posts only the parts
// beyond them.
func TestStreamRetryContinuesTheSameMessages(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	beat := f.killedAttempt(t, "r1/reply", reply("first", 400)[:2300], 2) // the second half-written
	text := reply("second", 700)
	retry := activities.NewStreamWriter(f.acts, target("r1/reply"), beat)
	if err := feed(ctx, retry, tokens(text)[:50], 0); err != nil {
		t.Fatal(err)
	}
	ids, err := retry.Finish(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 3 || ids[0] != beat.Messages[0].ID || ids[1] != beat.Messages[1].ID {
		t.Fatalf("retry's messages %v, want to begin with the first attempt's %+v", ids, beat.Messages)
	}
	got := f.live(channelID)
	if want := f.wholeParts(t, text); !slices.Equal(contents(got), want) {
		t.Errorf("after the retry the channel holds %q, want %q", contents(got), want)
	}
	if n := f.webhookPosts() - len(f.live(wholeChannelID)); n != len(ids) {
		t.Errorf("%d webhook posts for %d messages", n, len(ids))
	}
}

// A retry whose answer is shorter leaves no stray text: the first
// attempt's messages beyond the new end are deleted and their deliveries
// forgotten.
func TestStreamShorterRetryLeavesNoStrayText(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	beat := f.killedAttempt(t, "r2/reply", reply("first", 700)[:4200], 3)
	text := "A short answer this time. Nothing more."
	retry := activities.NewStreamWriter(f.acts, target("r2/reply"), beat)
	if err := retry.Update(ctx, text[:10]); err != nil {
		t.Fatal(err)
	}
	// While the retry streams, the killed attempt's later messages no
	// longer show its words.
	for _, m := range f.live(channelID)[1:] {
		if m.Content != "…" {
			t.Errorf("while the retry streams, message %s shows %q", m.ID, m.Content)
		}
	}
	ids, err := retry.Finish(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	got := f.live(channelID)
	if len(ids) != 1 || ids[0] != beat.Messages[0].ID || !slices.Equal(contents(got), []string{text}) {
		t.Errorf("after the shorter retry: ids %v, channel %q", ids, contents(got))
	}
	if n := f.acts.DB.Delivery.Query().Where(delivery.KeyHasPrefix("r2/reply/")).CountX(ctx); n != 1 {
		t.Errorf("%d deliveries recorded, want only the first part's", n)
	}
}

// The crash windows: the post went through but the heartbeat never did
// (recorded in deliveries, or not even that): the retry, with no Progress,
// adopts the posted message instead of posting another.
func TestStreamRetryAdoptsAPostItWasNotTold(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	text := strings.TrimSpace(reply("final", 100))
	posted := func(key string) string {
		t.Helper()
		ids, err := activities.NewStreamWriter(f.acts, target(key), activities.Progress{}).Finish(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}

	// Posted and recorded, the heartbeat lost.
	if err := activities.NewStreamWriter(f.acts, target("c1/reply"), activities.Progress{}).Update(ctx, reply("half", 40)); err != nil {
		t.Fatal(err)
	}
	before := f.live(channelID)
	if len(before) != 1 {
		t.Fatalf("first attempt posted %d messages", len(before))
	}
	if id := posted("c1/reply"); id != before[0].ID || !slices.Equal(contents(f.live(channelID)), []string{text}) {
		t.Errorf("recorded post: retry ended in %s, channel %q; want %s holding the reply", id, contents(f.live(channelID)), before[0].ID)
	}

	// Posted, the answer lost before the message id was recorded.
	f.discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	if err := activities.NewStreamWriter(f.acts, target("c2/reply"), activities.Progress{}).Update(ctx, reply("half", 40)); err == nil {
		t.Fatal("the dropped post did not fail")
	}
	all := f.live(channelID)
	if len(all) != 2 {
		t.Fatalf("after the dropped post the channel has %d messages, want 2", len(all))
	}
	if id := posted("c2/reply"); id != all[1].ID || !slices.Equal(contents(f.live(channelID)), []string{text, text}) {
		t.Errorf("unrecorded post: retry ended in %s, channel %q; want %s adopted", id, contents(f.live(channelID)), all[1].ID)
	}
	if n := f.webhookPosts(); n != 2 {
		t.Errorf("%d webhook posts, want 2", n)
	}
}

// A 429 Discord answers an edit (here scripted, 700 ms) is waited out and
// the edit sent again: the text it carried is not lost.
func TestStreamWaitsOutA429(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	const route = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
	f.discord.RateLimitNext(route, 700*time.Millisecond)
	text := strings.TrimSpace(reply("limited", 150))
	w := activities.NewStreamWriter(f.acts, target("l1/reply"), activities.Progress{})
	if err := feed(ctx, w, tokens(text), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, text); err != nil {
		t.Fatal(err)
	}
	var edits []fakediscord.Request
	for _, r := range f.discord.Requests() {
		if r.Route == route {
			edits = append(edits, r)
		}
	}
	if len(edits) < 2 || edits[0].Status != 429 {
		t.Fatalf("edits = %d, the first answered %d; want a 429 then more", len(edits), edits[0].Status)
	}
	if gap := edits[1].Time.Sub(edits[0].Time); gap < 700*time.Millisecond {
		t.Errorf("edit sent again %v after a 429 with retry_after 0.7 s", gap)
	}
	if got := contents(f.live(channelID)); !slices.Equal(got, []string{text}) {
		t.Errorf("channel = %q", got)
	}
}

// Where the channel cannot have our webhook the reply streams as bot
// messages, "**Name:** text", edited by the bot, and ends as PostReply's
// bot messages would.
func TestStreamAsTheBotWithoutAWebhook(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	f.discord.DenyWebhooks(channelID)
	f.discord.DenyWebhooks(wholeChannelID)
	ctx := context.Background()
	text := reply("bot", 400)
	w := activities.NewStreamWriter(f.acts, target("b1/reply"), activities.Progress{})
	if err := feed(ctx, w, tokens(text), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, text); err != nil {
		t.Fatal(err)
	}
	got := f.live(channelID)
	want := f.wholeParts(t, text)
	if len(want) < 2 || !slices.Equal(contents(got), want) {
		t.Fatalf("streamed bot messages %q, want %q", contents(got), want)
	}
	if got[0].WebhookID != "" || !strings.HasPrefix(got[0].Content, "**Kerach:** ") || len(got[0].History) < 2 {
		t.Errorf("first message by webhook %q, %d versions: want a bot message edited as it grew", got[0].WebhookID, len(got[0].History))
	}
}

// A part whose post went out but whose answer was lost (the worker died
// before recording it) has a begun delivery row and no message id: the
// discard still finds it in the channel, deletes it with the recorded part
// before it, forgets every row, and leaves the other reply posted meanwhile
// by the same personality in the channel alone.
func TestDiscardStreamFindsAnUnrecordedPost(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	w := activities.NewStreamWriter(f.acts, target("d1/reply"), activities.Progress{})
	if _, err := w.Finish(ctx, "The first part, whole."); err != nil {
		t.Fatal(err)
	}
	f.discord.DropNextAfterHandling("POST /webhooks/{webhook_id}/{webhook_token}")
	if _, err := w.Finish(ctx, strings.TrimSpace(reply("long", 600))); err == nil {
		t.Fatal("the dropped post of the second part did not fail")
	}
	if n := len(f.live(channelID)); n != 2 {
		t.Fatalf("after the dropped post the channel has %d messages, want 2", n)
	}
	other, err := activities.NewStreamWriter(f.acts, target("d2/reply"), activities.Progress{}).Finish(ctx, "Another reply, kept.")
	if err != nil {
		t.Fatal(err)
	}

	if err := f.acts.DiscardStream(ctx, activities.DiscardStreamInput{Target: target("d1/reply")}); err != nil {
		t.Fatal(err)
	}
	live := f.live(channelID)
	if len(live) != 1 || live[0].ID != other[0] {
		t.Errorf("channel after the discard holds %d messages, want only the other reply (%s)", len(live), other[0])
	}
	if n := f.acts.DB.Delivery.Query().Where(delivery.KeyHasPrefix("d1/reply/")).CountX(ctx); n != 0 {
		t.Errorf("%d delivery rows of the discarded reply left, want 0", n)
	}
	if n := f.acts.DB.Delivery.Query().Where(delivery.KeyHasPrefix("d2/reply/"), delivery.DiscordMessageID(other[0])).CountX(ctx); n != 1 {
		t.Errorf("the other reply's delivery row is gone")
	}
}

// Five replies streaming at once in one channel from one worker, at
// Discord's own limit (5 requests per 2 s per webhook): their growing
// edits together never take more than 3 requests of any 2 s, leaving the
// rest to posts and final edits, and each reply ends whole.
func TestStreamWritersSharingAWebhookLeaveRoom(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	ctx := context.Background()
	const route = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		growing = time.Now().Add(time.Hour) // until the first Finish
	)
	texts, ids, errs := make([]string, 5), make([][]string, 5), make([]error, 5)
	for i := range 5 {
		texts[i] = strings.TrimSpace(reply(fmt.Sprintf("shared%d", i), 150))
		wg.Go(func() {
			w := activities.NewStreamWriter(f.acts, target(fmt.Sprintf("sh%d/reply", i)), activities.Progress{})
			if errs[i] = feed(ctx, w, tokens(texts[i]), 20*time.Millisecond); errs[i] != nil {
				return
			}
			mu.Lock()
			if now := time.Now(); now.Before(growing) {
				growing = now
			}
			mu.Unlock()
			ids[i], errs[i] = w.Finish(ctx, texts[i])
		})
	}
	wg.Wait()
	var edits []time.Time
	for _, r := range f.discord.Requests() {
		if r.Route == route && r.Time.Before(growing) {
			edits = append(edits, r.Time)
		}
	}
	most := 0
	for i := range edits {
		n := 0
		for _, e := range edits[i:] {
			if e.Sub(edits[i]) < 2*time.Second {
				n++
			}
		}
		most = max(most, n)
	}
	if most > 3 {
		t.Errorf("%d growing edits within 2 s through one webhook, want at most 3 (of its 5)", most)
	}
	if len(edits) == 0 {
		t.Error("no growing edit: the replies did not stream")
	}
	byID := map[string]string{}
	for _, m := range f.live(channelID) {
		byID[m.ID] = m.Content
	}
	for i := range 5 {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if len(ids[i]) != 1 || byID[ids[i][0]] != texts[i] {
			t.Errorf("writer %d ended as %d messages, want 1 holding the reply", i, len(ids[i]))
		}
	}
	if n := f.discord.EarlyRetries(); n != 0 {
		t.Errorf("%d requests came back before a 429's retry_after", n)
	}
}
