//go:build integration

package activities_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const (
	userKey     = "sk-or-v1-1111111111111111111111111111111111111111111111111111111111111111"
	operatorKey = "sk-or-v1-2222222222222222222222222222222222222222222222222222222222222222"
	aliceID     = "111111111111111111"
	channelID   = "900000000000000001"
)

type fixture struct {
	acts    *activities.Activities
	db      *ent.Client
	or      *fakeopenrouter.Server
	discord *fakediscord.Server
	env     *testsuite.TestActivityEnvironment
	keys    *keycrypt.Keyring
	kerach  uuid.UUID
}

func newFixture(t *testing.T, guest config.GuestMode, model string) *fixture {
	t.Helper()
	db, sqlDB := testdb.Client(t)
	return newFixtureOn(t, guest, model, db, sqlDB)
}

// newFixtureOn is newFixture on the given database clients (a recording
// pool, say).
func newFixtureOn(t *testing.T, guest config.GuestMode, model string, db *ent.Client, sqlDB *sql.DB) *fixture {
	t.Helper()
	or := fakeopenrouter.New(fakeopenrouter.Options{})
	or.AddKey(userKey, fakeopenrouter.Key{})
	or.AddKey(operatorKey, fakeopenrouter.Key{})
	orSrv := httptest.NewServer(or)
	t.Cleanup(orSrv.Close)
	dc := fakediscord.New(fakediscord.Options{})
	dcSrv := httptest.NewServer(dc)
	t.Cleanup(dcSrv.Close)
	session, err := discordhttp.Session("test-token", dcSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keycrypt.NewKeyring(strings.Repeat("ab", 32), "")
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{
		DB: db, SQL: sqlDB, Keys: keys, Discord: session, Log: slog.New(slog.DiscardHandler),
		OpenRouter:  openrouter.New(openrouter.Options{BaseURL: orSrv.URL + "/api/v1"}),
		GuestMode:   guest,
		OperatorKey: operatorKey,
	}
	ctx := context.Background()
	p := db.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").
		SetSystemPrompt("You are cold.").SetErrorMessage("*static*").SaveX(ctx)
	db.LLMConfig.Create().SetPersonalityID(p.ID).SetModel(model).
		SetAdvancedParameters(map[string]any{"temperature": 0.7, "reasoning": map[string]any{"effort": "low"}}).ExecX(ctx)
	db.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Kerach").ExecX(ctx)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{acts: acts, db: db, or: or, discord: dc, env: env, keys: keys, kerach: p.ID}
}

func (f *fixture) storeKey(t *testing.T, key string, active bool) {
	t.Helper()
	ctx := context.Background()
	u := f.db.User.Create().SetDiscordID(aliceID).SaveX(ctx)
	s, err := f.keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	f.db.UserAPIKey.Create().SetUserID(u.ID).SetIv(s.IV).SetContent(s.Content).SetTag(s.Tag).SetIsActive(active).ExecX(ctx)
}

// requests numbers the fixtures' requests: each is a new provider call with
// a usage row of its own.
var requests atomic.Int64

// postReply runs PostReply and returns the Discord message id; an error
// fails the test.
func (f *fixture) postReply(t *testing.T, in activities.PostReplyInput) string {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.PostReply, in)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := v.Get(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) generate(t *testing.T) (activities.GenerateOutput, error) {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.Generate, activities.GenerateInput{
		RequestID: fmt.Sprintf("r%d", requests.Add(1)), DiscordUserID: aliceID, Username: "alice", PersonalityID: f.kerach,
		ChannelID: channelID, Content: "hello there", Now: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		return activities.GenerateOutput{}, err
	}
	var out activities.GenerateOutput
	return out, v.Get(&out)
}

func errType(err error) string {
	var appErr *temporal.ApplicationError
	for e := err; e != nil; {
		if ae, ok := e.(*temporal.ApplicationError); ok {
			appErr = ae
			break
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	if appErr == nil {
		return ""
	}
	return appErr.Type()
}

func TestResolvePersonality(t *testing.T) {
	f := newFixture(t, config.GuestFree, "anthropic/claude-sonnet-4")
	for _, ref := range []string{"cold-kerach", "COLD-KERACH", "kerach", "@Kerach", f.kerach.String()} {
		v, err := f.env.ExecuteActivity(f.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: ref, DiscordUserID: "100000000000000099"})
		if err != nil {
			t.Fatalf("%q: %v", ref, err)
		}
		var p activities.PersonalityRef
		if err := v.Get(&p); err != nil {
			t.Fatal(err)
		}
		if p.ID != f.kerach || p.DisplayName != "Kerach" || p.ErrorMessage != "*static*" {
			t.Errorf("%q resolved to %+v", ref, p)
		}
	}
	if _, err := f.env.ExecuteActivity(f.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "nobody", DiscordUserID: "100000000000000099"}); errType(err) != activities.ErrNotFound {
		t.Errorf("unknown personality: %v", err)
	}
}

// ResolvePersonality applies internal/access for the speaker: a private
// personality does not exist for anyone but its owner, superusers and the
// operator, by any reference; a request without a speaker is refused.
func TestResolvePersonalityIsForTheSpeaker(t *testing.T) {
	f := newFixture(t, config.GuestFree, "anthropic/claude-sonnet-4")
	f.acts.OperatorDiscordID = "100000000000000077"
	ctx := context.Background()
	owner := f.db.User.Create().SetDiscordID("100000000000000071").SaveX(ctx)
	f.db.User.Create().SetDiscordID("100000000000000072").ExecX(ctx)
	f.db.User.Create().SetDiscordID("100000000000000073").SetIsSuperuser(true).ExecX(ctx)
	p := f.db.Personality.Create().SetName("hidden").SetDisplayName("Hidden One").SetOwnerID(owner.ID).
		SetIsPublic(false).SetSystemPrompt("secret").SaveX(ctx)
	f.db.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("shade").ExecX(ctx)
	for _, ref := range []string{"hidden", "SHADE", "Hidden One", p.ID.String()} {
		for user, ok := range map[string]bool{
			"100000000000000071": true,  // the owner
			"100000000000000072": false, // another user
			"100000000000000074": false, // a user with no row
			"100000000000000073": true,  // a superuser
			"100000000000000077": true,  // the operator
		} {
			v, err := f.env.ExecuteActivity(f.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: ref, DiscordUserID: user})
			if !ok {
				if errType(err) != activities.ErrNotFound || strings.Contains(err.Error(), "secret") {
					t.Errorf("%q for %s: %v, want not found", ref, user, err)
				}
				continue
			}
			var got activities.PersonalityRef
			if err != nil || v.Get(&got) != nil || got.ID != p.ID {
				t.Errorf("%q for %s: %+v %v", ref, user, got, err)
			}
		}
	}
	if _, err := f.env.ExecuteActivity(f.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "kerach"}); errType(err) != activities.ErrBadInput {
		t.Errorf("no speaker: %v, want bad input", err)
	}
}

func TestGenerateWithTheUsersKey(t *testing.T) {
	f := newFixture(t, config.GuestAll, "deepseek/deepseek-r1")
	f.storeKey(t, userKey, true)
	out, err := f.generate(t)
	if err != nil {
		t.Fatal(err)
	}
	if out.KeySource != activities.KeyFromUser || !strings.Contains(out.Text, "hello there") || out.Reasoning == "" {
		t.Errorf("output %+v", out)
	}
	if n := len(f.or.CallsFor(operatorKey)); n != 0 {
		t.Errorf("operator key used %d times", n)
	}
	calls := f.or.CallsFor(userKey)
	if len(calls) != 1 || !strings.Contains(string(calls[0].Body), `"reasoning":{"effort":"low"}`) ||
		!strings.Contains(string(calls[0].Body), "You are cold.") || !strings.Contains(string(calls[0].Body), "Saturday 14 March 2026") {
		t.Errorf("provider calls %d, body %s", len(calls), calls[0].Body)
	}
	k := f.db.UserAPIKey.Query().OnlyX(context.Background())
	if k.LastUsedAt == nil {
		t.Error("last_used_at not set")
	}
	u := f.db.UsageLog.Query().OnlyX(context.Background())
	if u.TokensTotal == 0 || string(u.RequestType) != "text" || u.PersonalityID == nil || *u.PersonalityID != f.kerach {
		t.Errorf("usage row %+v", u)
	}
}

// The heart of BYOK: a user whose key was switched off is never served with
// the operator's key, whatever GUEST_MODE says.
func TestInactiveKeyNeverFallsBackToTheOperator(t *testing.T) {
	f := newFixture(t, config.GuestAll, "openrouter/free")
	f.storeKey(t, userKey, false)
	_, err := f.generate(t)
	if errType(err) != activities.ErrKeyInactive || !strings.Contains(err.Error(), "/wallet") {
		t.Fatalf("err = %v, want %s telling how to fix it", err, activities.ErrKeyInactive)
	}
	if n := len(f.or.Calls()); n != 0 {
		t.Fatalf("%d provider calls, want none", n)
	}
}

func TestGuestModes(t *testing.T) {
	cases := []struct {
		guest    config.GuestMode
		model    string
		wantErr  string
		wantCall bool
	}{
		{config.GuestOff, "openrouter/free", activities.ErrNoKey, false},
		{config.GuestFree, "anthropic/claude-sonnet-4", activities.ErrNoKey, false},
		{config.GuestFree, "meta-llama/llama-3.3-70b-instruct:free", "", true},
		{config.GuestAll, "anthropic/claude-sonnet-4", "", true},
	}
	for _, tc := range cases {
		t.Run(string(tc.guest)+"/"+tc.model, func(t *testing.T) {
			f := newFixture(t, tc.guest, tc.model)
			out, err := f.generate(t)
			if errType(err) != tc.wantErr {
				t.Fatalf("err = %v, want type %q", err, tc.wantErr)
			}
			if got := len(f.or.CallsFor(operatorKey)) == 1; got != tc.wantCall {
				t.Fatalf("operator key called: %v, want %v", got, tc.wantCall)
			}
			if tc.wantCall && out.KeySource != activities.KeyFromOperator {
				t.Fatalf("key source %q", out.KeySource)
			}
		})
	}
}

func TestA401IsConfirmedBeforeItIsFinal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    func(or *fakeopenrouter.Server)
		wantErr string
	}{
		{"transient 401: the key checks out, so it is retried",
			func(or *fakeopenrouter.Server) { or.Script(userKey, fakeopenrouter.Fail(401)) }, activities.ErrUnavailable},
		{"revoked key: 401 on the key check too, final",
			func(or *fakeopenrouter.Server) { or.Revoke(userKey) }, activities.ErrInvalidKey},
		{"402 is final without a check",
			func(or *fakeopenrouter.Server) { or.Script(userKey, fakeopenrouter.Fail(402)) }, activities.ErrNoCredits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, config.GuestFree, "anthropic/claude-sonnet-4")
			f.storeKey(t, userKey, true)
			tc.fail(f.or)
			if _, err := f.generate(t); errType(err) != tc.wantErr {
				t.Fatalf("err = %v, want %s", err, tc.wantErr)
			}
		})
	}
}

func TestPostReplyUsesOneWebhookPerChannelAndPostsOnce(t *testing.T) {
	f := newFixture(t, config.GuestFree, "openrouter/free")
	post := func(key, content string) string {
		return f.postReply(t, activities.PostReplyInput{
			DeliveryKey: key, ChannelID: channelID, Username: "Kerach", AvatarURL: "https://example.com/k.png", Content: content,
		})
	}
	first := post("reply/1/reply", "one")
	again := post("reply/1/reply", "one")
	post("reply/2/reply", "two")
	if first == "" || first != again {
		t.Errorf("repeated delivery gave %q then %q", first, again)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 2 || f.discord.WebhooksCreated(channelID) != 1 {
		t.Fatalf("%d messages, %d webhooks; want 2 and 1", len(msgs), f.discord.WebhooksCreated(channelID))
	}
	if msgs[0].WebhookID == "" || msgs[0].Author.Username != "Kerach" {
		t.Errorf("not posted as the personality: %+v", msgs[0])
	}
}

func TestPostReplyFallsBackToAPlainMessage(t *testing.T) {
	f := newFixture(t, config.GuestFree, "openrouter/free")
	f.discord.DenyWebhooks(channelID)
	_, err := f.env.ExecuteActivity(f.acts.PostReply, activities.PostReplyInput{
		DeliveryKey: "reply/1/reply", ChannelID: channelID, Username: "Kerach", Content: strings.Repeat("word ", 500),
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 2 || msgs[0].WebhookID != "" {
		t.Fatalf("messages %d (webhook %q), want a 2500-character reply as 2 plain messages", len(msgs), msgs[0].WebhookID)
	}
	for _, m := range msgs {
		if !strings.HasPrefix(m.Content, "**Kerach:** word") {
			t.Errorf("bot message %.30q…, want it named **Kerach:**", m.Content)
		}
	}
}

func TestSendDMOnce(t *testing.T) {
	f := newFixture(t, config.GuestFree, "openrouter/free")
	for range 2 {
		if _, err := f.env.ExecuteActivity(f.acts.SendDM, activities.SendDMInput{
			DeliveryKey: "reply/1/dm", DiscordUserID: aliceID, Content: "your key was rejected",
		}); err != nil {
			t.Fatal(err)
		}
	}
	if dms := f.discord.DMs(aliceID); len(dms) != 1 {
		t.Fatalf("%d DMs, want 1", len(dms))
	}
}

func TestStoreAndDeactivateKey(t *testing.T) {
	f := newFixture(t, config.GuestFree, "openrouter/free")
	s, _ := f.keys.Seal(userKey)
	for range 2 { // idempotent: the second run updates the same row
		if _, err := f.env.ExecuteActivity(f.acts.StoreKey, activities.StoreKeyInput{DiscordUserID: aliceID, Provider: "openrouter", SealedKey: s}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if n := f.db.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(ctx); n != 1 {
		t.Fatalf("%d active keys, want 1", n)
	}
	// Both runs come from the same workflow (the test environment's one
	// id), as a retry after the first run's UPDATE committed would: both
	// report that this workflow switched the key off, so its DM is not lost.
	changed := []bool{}
	for range 2 {
		v, err := f.env.ExecuteActivity(f.acts.DeactivateKey, activities.DeactivateKeyInput{DiscordUserID: aliceID, Provider: "openrouter"})
		if err != nil {
			t.Fatal(err)
		}
		var c bool
		if err := v.Get(&c); err != nil {
			t.Fatal(err)
		}
		changed = append(changed, c)
	}
	if !changed[0] || !changed[1] || f.db.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(ctx) != 0 {
		t.Fatalf("deactivation by one workflow, run twice, reported %v; want [true true]", changed)
	}
}

// deactivateAs runs DeactivateKey as the workflow execution with ID wfID
// schedules it, in a test workflow environment started under that ID.
func (f *fixture) deactivateAs(t *testing.T, wfID string, in activities.DeactivateKeyInput) bool {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(f.acts)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (bool, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		var off bool
		err := workflow.ExecuteActivity(ctx, f.acts.DeactivateKey, in).Get(ctx, &off)
		return off, err
	}, workflow.RegisterOptions{Name: "Deactivate"})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wfID})
	env.ExecuteWorkflow("Deactivate")
	var off bool
	if err := env.GetWorkflowResult(&off); err != nil {
		t.Fatalf("DeactivateKey as %s: %v", wfID, err)
	}
	return off
}

// Two replies refused with the same key each run DeactivateKey: only the
// workflow that switched the key off is told so (and told again on its
// retry), so only it DMs the user. With the fingerprint and without.
func TestDeactivateKeyReportsOnlyTheWorkflowThatSwitchedItOff(t *testing.T) {
	for _, fingerprint := range []string{activities.KeyFingerprint(userKey), ""} {
		f := newFixture(t, config.GuestOff, "openrouter/free")
		f.storeKey(t, userKey, true)
		in := activities.DeactivateKeyInput{DiscordUserID: aliceID, Provider: activities.ProviderOpenRouter, KeyFingerprint: fingerprint}
		got := []bool{
			f.deactivateAs(t, "reply/1", in),
			f.deactivateAs(t, "reply/2", in),
			f.deactivateAs(t, "reply/1", in), // reply/1's retry
		}
		if !got[0] || got[1] || !got[2] {
			t.Errorf("fingerprint %q: DeactivateKey as reply/1, reply/2, reply/1 again = %v; want [true false true]", fingerprint, got)
		}
		if k, err := f.acts.DB.UserAPIKey.Query().Only(t.Context()); err != nil || k.IsActive || k.DeactivatedBy == nil || *k.DeactivatedBy != "reply/1" {
			t.Errorf("fingerprint %q: the key after: %+v, %v; want off, deactivated_by reply/1", fingerprint, k, err)
		}
	}
}

func TestSaveTurnsOnce(t *testing.T) {
	f := newFixture(t, config.GuestFree, "openrouter/free")
	in := activities.SaveTurnsInput{PersonalityID: f.kerach, ChannelID: channelID, DiscordUserID: aliceID, Username: "alice",
		UserContent: "hi", UserMessageID: "800000000000000001", ReplyContent: "brr", ReplyReasoning: "cold thoughts", ReplyMessageID: "700000000000000001"}
	for range 2 {
		if _, err := f.env.ExecuteActivity(f.acts.SaveTurns, in); err != nil {
			t.Fatal(err)
		}
	}
	turns := f.db.ConversationHistory.Query().AllX(context.Background())
	if len(turns) != 2 {
		t.Fatalf("%d turns, want 2", len(turns))
	}
	for _, tr := range turns {
		if tr.Role == "assistant" && (tr.Reasoning == nil || *tr.Reasoning != "cold thoughts" || tr.UserID != nil) {
			t.Errorf("assistant turn %+v", tr)
		}
	}
}

func TestUserConfigOverridesModelAndParameters(t *testing.T) {
	f := newFixture(t, config.GuestFree, "anthropic/claude-sonnet-4")
	f.storeKey(t, userKey, true)
	ctx := context.Background()
	u := f.db.User.Query().OnlyX(ctx)
	f.db.UserPersonalityConfig.Create().SetUserID(u.ID).SetPersonalityID(f.kerach).
		SetModel("deepseek/deepseek-r1").SetAdvancedParameters(map[string]any{"temperature": 1.3}).ExecX(ctx)
	out, err := f.generate(t)
	if err != nil {
		t.Fatal(err)
	}
	body := string(f.or.CallsFor(userKey)[0].Body)
	if !strings.Contains(body, `"model":"deepseek/deepseek-r1"`) || !strings.Contains(body, `"temperature":1.3`) ||
		!strings.Contains(body, `"reasoning":{"effort":"low"}`) {
		t.Fatalf("request body %s: want the user's model and temperature over the personality's reasoning", body)
	}
	if out.Model == "" {
		t.Fatal("no model in output")
	}
}
