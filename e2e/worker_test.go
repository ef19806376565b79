//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

func TestMain(m *testing.M) { itest.Main(m) }

const (
	userKey     = "sk-or-v1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	operatorKey = "sk-or-v1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	aliceID     = "111111111111111111"
	channelID   = "900000000000000001"
)

func seedPersonality(t *testing.T, s *itest.Stack, model string) {
	t.Helper()
	ctx := context.Background()
	p := s.DB.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").
		SetSystemPrompt("You are cold.").SetErrorMessage("*static crackles*").SaveX(ctx)
	s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel(model).ExecX(ctx)
	s.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Kerach").ExecX(ctx)
}

// userKeyStack is a stack made with opts where Kerach answers with model
// and alice has stored userKey, a key OpenRouter's stand-in knows.
func userKeyStack(t *testing.T, opts itest.Options, model string) *itest.Stack {
	t.Helper()
	s := itest.New(t, opts)
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	seedPersonality(t, s, model)
	storeKey(t, s, userKey)
	return s
}

func storeKey(t *testing.T, s *itest.Stack, key string) {
	t.Helper()
	ctx := context.Background()
	u := s.DB.User.Create().SetDiscordID(aliceID).SaveX(ctx)
	sealed, err := s.Keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	s.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
}

func reply(t *testing.T, s *itest.Stack, requestID string) workflows.GenerateReplyResult {
	t.Helper()
	return replyAsking(t, s, requestID, channelID, "hello there")
}

func TestValidateAPIKeyEndToEnd(t *testing.T) {
	s := itest.New(t, itest.Options{})
	s.OpenRouter.AddKey(userKey, fakeopenrouter.Key{})
	broke := 0.0
	const brokeKey = "sk-or-v1-cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	s.OpenRouter.AddKey(brokeKey, fakeopenrouter.Key{Credits: &broke})
	cases := []struct {
		user, key, want string
	}{
		{"111111111111111111", userKey, workflows.KeyStored},
		{"222222222222222222", "sk-or-v1-dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", workflows.KeyInvalid},
		{"333333333333333333", brokeKey, workflows.KeyQuotaExceeded},
	}
	var ids []string
	for _, tc := range cases {
		sealed, _ := s.Keys.Seal(tc.key)
		id := workflows.ValidateAPIKeyID(tc.user, "openrouter")
		ids = append(ids, id)
		run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: id, TaskQueue: s.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		}, workflows.ValidateAPIKeyName, workflows.ValidateAPIKeyInput{DiscordUserID: tc.user, Provider: "openrouter", SealedKey: sealed})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.ValidateAPIKeyResult
		if err := run.Get(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
		if res.Outcome != tc.want {
			t.Errorf("user %s: outcome %s, want %s", tc.user, res.Outcome, tc.want)
		}
	}
	if n := s.DB.UserAPIKey.Query().CountX(context.Background()); n != 1 {
		t.Errorf("%d keys stored, want only the valid one", n)
	}
	// The key check authenticates: it hit /key, never the public model list.
	for _, c := range s.OpenRouter.Calls() {
		if strings.HasSuffix(c.Path, "/models") {
			t.Errorf("key check used %s, which proves nothing about a key", c.Path)
		}
	}
	s.AssertNoSecrets(t, ids, userKey, brokeKey)
}

func TestSecondValidationDoesNotRaceTheFirst(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true}) // nothing runs, so the first stays open
	sealed, _ := s.Keys.Seal(userKey)
	opts := client.StartWorkflowOptions{
		ID: workflows.ValidateAPIKeyID(aliceID, "openrouter"), TaskQueue: s.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
	in := workflows.ValidateAPIKeyInput{DiscordUserID: aliceID, Provider: "openrouter", SealedKey: sealed}
	if _, err := s.Client.ExecuteWorkflow(context.Background(), opts, workflows.ValidateAPIKeyName, in); err != nil {
		t.Fatal(err)
	}
	_, err := s.Client.ExecuteWorkflow(context.Background(), opts, workflows.ValidateAPIKeyName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &started) {
		t.Fatalf("second start: err = %v, want WorkflowExecutionAlreadyStarted", err)
	}
	_ = s.Client.TerminateWorkflow(context.Background(), opts.ID, "", "test over")
}

func TestGenerateReplyEndToEnd(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey}, "anthropic/claude-sonnet-4")
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	res := reply(t, s, "800000000000000001")
	if res.Outcome != workflows.ReplyReplied || res.DiscordMessageID == "" {
		t.Fatalf("result %+v", res)
	}
	msgs := s.Discord.Messages(channelID)
	if len(msgs) != 1 || msgs[0].WebhookID == "" || msgs[0].Author.Username != "Kerach" || !strings.Contains(msgs[0].Content, "hello there") {
		t.Fatalf("channel messages %+v", msgs)
	}
	ctx := context.Background()
	if n := s.DB.ConversationHistory.Query().CountX(ctx); n != 2 {
		t.Errorf("%d history rows, want 2", n)
	}
	if n := s.DB.UsageLog.Query().CountX(ctx); n != 1 {
		t.Errorf("%d usage rows, want 1", n)
	}
	if len(s.OpenRouter.CallsFor(operatorKey)) != 0 {
		t.Error("the operator's key was used for a user with a key")
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID("800000000000000001")}, userKey, operatorKey)
}

func TestRejectedKeyIsSwitchedOffAndTheUserToldOnce(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey}, "openrouter/free")
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	s.OpenRouter.Revoke(userKey)
	deactivated, dms := metrics.Sum("tzurot_key_deactivations_total", map[string]string{"provider": "openrouter"}), metrics.Sum("tzurot_dms_sent_total", nil)
	rejected := metrics.Sum("tzurot_replies_total", map[string]string{"outcome": "key_rejected", "key_source": "user"})
	res := reply(t, s, "800000000000000002")
	if res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("outcome %s", res.Outcome)
	}
	assertRejected(t, s)
	// Counted as they happened, once each.
	if d, m := metrics.Sum("tzurot_key_deactivations_total", map[string]string{"provider": "openrouter"})-deactivated, metrics.Sum("tzurot_dms_sent_total", nil)-dms; d != 1 || m != 1 {
		t.Errorf("tzurot_key_deactivations_total grew by %v, tzurot_dms_sent_total by %v; want 1 each", d, m)
	}
	// The next message from the same user makes no provider call at all.
	before := len(s.OpenRouter.Calls())
	if res := reply(t, s, "800000000000000003"); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("second outcome %s", res.Outcome)
	}
	if after := len(s.OpenRouter.Calls()); after != before {
		t.Errorf("%d provider calls for a switched-off key", after-before)
	}
	if n := metrics.Sum("tzurot_replies_total", map[string]string{"outcome": "key_rejected", "key_source": "user"}) - rejected; n != 2 {
		t.Errorf("tzurot_replies_total{outcome=key_rejected,key_source=user} grew by %v, want 2", n)
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID("800000000000000002"), workflows.GenerateReplyID("800000000000000003")}, userKey, operatorKey)
}

func assertRejected(t *testing.T, s *itest.Stack) {
	t.Helper()
	if dms := s.Discord.DMs(aliceID); len(dms) != 1 || !strings.Contains(dms[0].Content, "/wallet set") {
		t.Errorf("DMs %+v, want exactly one telling how to fix it", dms)
	}
	msgs := shown(s.Discord.Messages(channelID))
	if len(msgs) == 0 || msgs[0].Content != "*static crackles*" {
		t.Errorf("channel messages %+v, want the personality's error message", msgs)
	}
	if s.DB.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(context.Background()) != 0 {
		t.Error("the key is still active")
	}
	if n := len(s.OpenRouter.CallsFor(operatorKey)); n != 0 {
		t.Errorf("the operator's key was called %d times after the user's key failed", n)
	}
}

// The worker is a real process killed with SIGKILL mid-reply: the retried
// activity on a new worker finishes the job with one reply, one DM, one
// deactivation.
func TestWorkerKilledMidReply(t *testing.T) {
	bin := buildTzurot(t)
	cases := []struct {
		name   string
		revoke bool
	}{
		{"reply", false},
		{"rejected key", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := userKeyStack(t, itest.Options{NoWorker: true, GuestMode: config.GuestAll, OperatorKey: operatorKey}, "openrouter/free")
			s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
			s.OpenRouter.Script(userKey, fakeopenrouter.Delay(20*time.Second))
			first := startWorker(t, s, bin)
			id := workflows.GenerateReplyID("800000000000000009")
			run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: s.TaskQueue},
				workflows.GenerateReplyName, workflows.GenerateReplyInput{
					RequestID: "800000000000000009", DiscordUserID: aliceID, Username: "alice", Personality: "Kerach",
					ChannelID: channelID, MessageID: "800000000000000009", Content: "hello there",
				})
			if err != nil {
				t.Fatal(err)
			}
			// Killed once the provider call is in flight (the stand-in holds it).
			testwait.Until(t, "the provider call to arrive", func() bool { return s.OpenRouter.Arrived(userKey) > 0 })
			killWorker(t, first)
			if tc.revoke {
				// The user revokes the key while the reply is in flight.
				s.OpenRouter.Revoke(userKey)
			}
			startWorker(t, s, bin)
			res := runResult[workflows.GenerateReplyResult](t, run, 90*time.Second)
			if tc.revoke {
				if res.Outcome != workflows.ReplyKeyRejected {
					t.Fatalf("outcome %s", res.Outcome)
				}
				assertRejected(t, s)
			} else {
				if res.Outcome != workflows.ReplyReplied {
					t.Fatalf("outcome %s", res.Outcome)
				}
				if msgs := s.Discord.Messages(channelID); len(msgs) != 1 {
					t.Errorf("%d channel messages, want 1", len(msgs))
				}
				if n := s.DB.ConversationHistory.Query().CountX(context.Background()); n != 2 {
					t.Errorf("%d history rows, want 2", n)
				}
			}
			s.AssertNoSecrets(t, []string{id}, userKey, operatorKey)
		})
	}
}

func buildTzurot(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tzurot")
	cmd := exec.Command("go", "build", "-o", out, "github.com/tzurot/tzurot/cmd/tzurot")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tzurot: %v\n%s", err, b)
	}
	return out
}

// startWorker runs `tzurot worker` as a process against s; extraEnv entries
// (KEY=value) override s's configuration.
func startWorker(t *testing.T, s *itest.Stack, bin string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(s.Env(), extraEnv...)
	cmd.Dir = t.TempDir() // no .env from the repository
	cmd.Stdout = s.Logs
	cmd.Stderr = s.Logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return cmd
}

// killWorker ends a worker process at once (SIGKILL), as a crash would, and
// reaps it; Wait's "signal: killed" is what is meant.
func killWorker(t testing.TB, w *exec.Cmd) {
	t.Helper()
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Process.Wait()
}

// runResult waits up to limit for run to end and returns its result; a run
// that fails or outlasts limit fails the test.
func runResult[T any](t testing.TB, run client.WorkflowRun, limit time.Duration) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var res T
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	return res
}
