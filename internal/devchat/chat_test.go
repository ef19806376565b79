//go:build integration

package devchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/devchat"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/worker"
)

func TestMain(m *testing.M) { itest.Main(m) }

const chatKey = "sk-or-v1-c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffee"

// buffer is the chat's terminal: written by the chat and the fake's request
// goroutines, read by the test while it waits.
type buffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// chatWorld runs a chat over script against real Temporal, PostgreSQL and
// worker. The Discord fake is the test's own rather than the stack's, because
// its OnMessage hook must reach the chat, as `tzurot dev` wires it.
func chatWorld(t *testing.T, script string) (*itest.Stack, *buffer, <-chan error) {
	t.Helper()
	return chatWorldReading(t, strings.NewReader(script))
}

func chatWorldReading(t *testing.T, in io.Reader) (*itest.Stack, *buffer, <-chan error) {
	t.Helper()
	return chatWorldWith(t, in, func(*devchat.ChatOptions) {})
}

// chatWorldWith is chatWorldReading with the chat's options changed by set.
func chatWorldWith(t *testing.T, in io.Reader, set func(*devchat.ChatOptions)) (*itest.Stack, *buffer, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := itest.New(t, itest.Options{NoWorker: true})
	s.OpenRouter.AddKey(chatKey, fakeopenrouter.Key{})
	p := s.DB.Personality.Create().SetName("demo").SetDisplayName("Demo").
		SetSystemPrompt("You are a demo.").SaveX(ctx)
	s.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
	s.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Demo").ExecX(ctx)

	var chat atomic.Pointer[devchat.Chat]
	dc := fakediscord.New(fakediscord.Options{OnMessage: func(m fakediscord.Message) {
		if c := chat.Load(); c != nil {
			c.Show(m)
		}
	}})
	srv := httptest.NewServer(dc)
	t.Cleanup(srv.Close)
	cfg := s.Config
	cfg.DiscordAPIBase = srv.URL
	acts, err := app.NewActivities(cfg, s.Activities.SQL, s.Keys, s.Activities.Log)
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(s.Client, s.TaskQueue, acts, s.Operator)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	session, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// As in `tzurot dev`, the chat's user is the operator of the bot.
	botCfg := cfg
	botCfg.BotOwnerDiscordID = devchat.ChatUserID
	b := bot.New(bot.Deps{Session: session, Temporal: s.Client, DB: s.DB, Keys: s.Keys, Config: botCfg, Log: s.Activities.Log,
		Memory: memory.NewPostgres(s.Activities.SQL, memory.Options{})})

	out := &buffer{}
	// As `tzurot dev` wires !revoke to the OpenRouter stand-in.
	revoke := func(context.Context, string) (string, error) {
		s.OpenRouter.Revoke(chatKey)
		return "revoked", nil
	}
	opts := devchat.ChatOptions{Bot: b, Discord: dc, In: in, Out: out, Example: "@demo hello", Revoke: revoke, OpenRouter: s.OpenRouter}
	set(&opts)
	c := devchat.NewChat(opts)
	chat.Store(c)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chat output:\n%s", out)
			t.Logf("logs:\n%s", s.Logs)
		}
	})
	return s, out, done
}

// chatWorldTyping is chatWorld with a person typing: say sends one line.
func chatWorldTyping(t *testing.T) (*itest.Stack, *buffer, <-chan error, func(string)) {
	t.Helper()
	return chatWorldTypingWith(t, func(*devchat.ChatOptions) {})
}

// chatWorldTypingWith is chatWorldTyping with the chat's options changed by set.
func chatWorldTypingWith(t *testing.T, set func(*devchat.ChatOptions)) (*itest.Stack, *buffer, <-chan error, func(string)) {
	t.Helper()
	in, typing := io.Pipe()
	t.Cleanup(func() { typing.Close() })
	s, out, done := chatWorldWith(t, in, set)
	say := func(line string) {
		t.Helper()
		if _, err := fmt.Fprintln(typing, line); err != nil {
			t.Fatal(err)
		}
	}
	return s, out, done, say
}

func waitForOutput(t *testing.T, out fmt.Stringer, want ...string) {
	t.Helper()
	testwait.Until(t, fmt.Sprintf("the chat to show all of %q", want), func() bool {
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				return false
			}
		}
		return true
	})
}

// A newcomer's first session: the key through the form, then a mention
// answered by the personality, all through the real handlers and workflows.
func TestChatSession(t *testing.T) {
	s, out, done := chatWorld(t, "/wallet set\n"+chatKey+"\n@demo hello\n/wallet list\n/walet set\n/wallet set provider:nope\n")
	waitForOutput(t, out,
		"works and is saved",    // the ephemeral answer of ValidateAPIKey
		"Demo: Echo from",       // the personality's post in the channel
		"hello",                 //
		"(only you) Your keys:", // /wallet list
		"There is no /walet",    // an unknown command gets a hint
		"provider: must be one of: OpenRouter",
	)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(out.String(), chatKey) || strings.Contains(out.String(), "c0ffeec0ffee") {
		t.Error("the chat showed the key")
	}
	if strings.Contains(s.Logs.String(), "c0ffeec0ffee") {
		t.Error("the key is in the logs")
	}
	if !strings.Contains(out.String(), "API key (starts with sk-or-v1-)") {
		t.Error("the form's field was not asked for by its label")
	}
}

// A form left empty sends nothing, and the session goes on.
func TestChatFormCancelled(t *testing.T) {
	s, out, done := chatWorld(t, "/wallet set\n\n/wallet list\n")
	waitForOutput(t, out, "Form cancelled", "You have no keys stored")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := s.DB.UserAPIKey.Query().CountX(context.Background()); n != 0 {
		t.Fatalf("%d keys stored after a cancelled form", n)
	}
}

// Options are parsed and typed against the command definitions; subcommand
// groups nest, and quoted values keep their spaces.
func TestChatSubcommandGroupAndHints(t *testing.T) {
	s, out, done := chatWorld(t, strings.Join([]string{
		`/personality alias add name:demo alias:"Demo Two"`,
		`/personality alias add name:demo`,
		`/personality alias add name:demo colour:red`,
		`/personality edit name:demo public:maybe`,
		`/help wallet`,
	}, "\n")+"\n")
	waitForOutput(t, out,
		"needs alias:",
		`has no option "colour"`,
		"public: must be true or false",
		"/wallet set [provider:…]",
	)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !s.DB.PersonalityAlias.Query().Where(personalityalias.Alias("Demo Two")).ExistX(context.Background()) {
		t.Errorf("the alias \"Demo Two\" was not added")
	}
}

// Replies and DMs: /reply continues with a personality without a mention, and
// in the DM channel the bot answers as itself.
func TestChatReplyAndDM(t *testing.T) {
	s, out, done, say := chatWorldTyping(t)
	say("/reply too early")
	say("/wallet set")
	say(chatKey)
	say("@demo hello")
	waitForOutput(t, out, "Nothing to reply to here yet", "Demo: Echo from")
	// The reply is known as the personality's once GenerateReply has saved
	// the turn, which a person takes longer to type than this test.
	waitForOutput(t, s.Logs, `"msg":"replied"`)
	say("/reply and again")
	waitForOutput(t, out, "and again\nDemo: Echo from")
	say("/dm")
	say("hi there")
	waitForOutput(t, out, "DM from Tzurot: Mention a personality")
	say("@demo in private")
	// A DM has no webhooks (Discord answers 50003), so the personality
	// speaks there as the bot, its name in bold; what matters is where.
	waitForOutput(t, out, "Echo from")
	asDM := regexp.MustCompile(`(?m)^DM from [^:]+: \*\*[^*]+:\*\* Echo from .*in private$`)
	testwait.Until(t, "the personality's answer in the DM to be shown as a DM", func() bool {
		return asDM.MatchString(out.String())
	})
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A personality whose display name Discord refuses as a webhook username
// ("discord" in any case) still answers in the offline chat, under the
// name made acceptable.
func TestChatDiscordHelperAnswers(t *testing.T) {
	_, out, done := chatWorld(t, strings.Join([]string{
		"/wallet set", chatKey,
		`/personality create name:helper display_name:"Discord Helper"`,
		"@helper hello",
	}, "\n")+"\n")
	waitForOutput(t, out, "Discоrd Helper: Echo from", "hello")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A command typed while a form asks cancels the form and runs; the key typed
// next is stored, not posted. A key typed as a message is never posted.
func TestChatCommandCancelsFormAndKeysAreNotPosted(t *testing.T) {
	s, out, done := chatWorld(t, "/wallet set\n/wallet list\n"+chatKey+"\n/wallet set\n"+chatKey+"\n")
	waitForOutput(t, out,
		"Form cancelled, nothing was sent: /wallet is a command, not an answer",
		"You have no keys stored",
		"Not posted: that looks like an API key",
		"works and is saved",
	)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := s.DB.UserAPIKey.Query().CountX(context.Background()); n != 1 {
		t.Errorf("%d keys stored, want the one typed into the second form", n)
	}
	if strings.Contains(out.String(), "c0ffeec0ffee") {
		t.Error("the chat showed the key")
	}
}

// The headline behaviour, offline: a stored key the provider stops accepting
// (!revoke openrouter) is switched off at the next reply and its owner DMed.
func TestChatRevokedKeyIsSwitchedOffAndOwnerDMed(t *testing.T) {
	s, out, done, say := chatWorldTyping(t)
	say("/wallet set")
	say(chatKey)
	waitForOutput(t, out, "works and is saved")
	say("!revoke openrouter")
	waitForOutput(t, out, "revoked")
	say("@demo hello")
	waitForOutput(t, out, "DM from Tzurot: OpenRouter rejected your API key (401), so I switched it off")
	if s.DB.UserAPIKey.Query().OnlyX(context.Background()).IsActive {
		t.Error("the revoked key is still active")
	}
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A script is read a line at a time, each once the answers to the one
// before have arrived: the reply to "@demo hello" comes before the
// "!revoke openrouter" written after it is run, so the key still works for
// it, as the README's walk-through has it.
func TestChatScriptRunsInOrder(t *testing.T) {
	s, out, done := chatWorld(t, "/wallet set\n"+chatKey+"\n@demo hello\n!revoke openrouter\n")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	text := out.String()
	reply, revoke := strings.Index(text, "Demo: Echo from"), strings.Index(text, "revoked")
	if reply < 0 || revoke < 0 || reply > revoke {
		t.Fatalf("the reply (at %d) did not come before !revoke ran (at %d)", reply, revoke)
	}
	if strings.Contains(text, "rejected your API key") || !s.DB.UserAPIKey.Query().OnlyX(context.Background()).IsActive {
		t.Error("the reply met the revoked key: !revoke overtook it")
	}
}

// On a terminal the typing is read by readline alone (a second reader would
// take lines from it) and a key typed into the form is masked, not echoed.
func TestChatOnATerminal(t *testing.T) {
	script := "/wallet set\n" + chatKey + "\n@demo hello\n/wallet list\n"
	s, out, done := chatWorldWith(t, strings.NewReader(script), func(o *devchat.ChatOptions) { o.Terminal = true })
	waitForOutput(t, out, "works and is saved", ": Echo from", "(only you) Your keys:")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// A growing message is tagged with its id's last digits on a terminal.
	if !regexp.MustCompile(`(?m)^Demo #\d{4}: Echo from`).MatchString(out.String()) {
		t.Errorf("the reply is not tagged with its message:\n%s", out)
	}
	if strings.Contains(out.String(), "c0ffeec0ffee") {
		t.Error("the terminal showed the key")
	}
	if n := s.DB.UserAPIKey.Query().CountX(context.Background()); n != 1 {
		t.Errorf("%d keys stored, want 1", n)
	}
}

// Buttons are shown with their labels and pressed with /press: /data
// delete cancelled, then confirmed, runs DeleteUserData; the export after
// it holds nothing.
func TestChatPressesButtons(t *testing.T) {
	_, out, done := chatWorld(t, "/timezone set zone:Europe/Paris\n/data delete\n/press cancel\n/data delete\n/press Delete my data\n/data export\n/press nothing\n")
	waitForOutput(t, out,
		"[Delete my data] [Cancel]  ← /press Delete my data",
		"(only you) Nothing was deleted.",
		"(only you) Done: everything held about you is deleted (1 row)",
		"Everything this bot holds about you: nothing.",
		"[attachment tzurot-data-"+devchat.ChatUserID+".json",
		"No button to press: the latest message shown has none left.",
	)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The export's link opens, as a signed Discord CDN URL does.
	link := regexp.MustCompile(`\[attachment tzurot-data-\d+\.json[^\]]*\] (\S+)`).FindStringSubmatch(out.String())
	if link == nil || !strings.Contains(link[1], "hm=") {
		t.Fatalf("the export's link is not signed: %v", link)
	}
	resp, err := http.Get(link[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"discord_user_id"`) {
		t.Errorf("GET %s: %d %.80s", link[1], resp.StatusCode, body)
	}
}

// /attach posts a local image; the personality (on a text-only model) is
// given the vision model's description of it.
func TestChatAttachesAnImage(t *testing.T) {
	s, out, done, say := chatWorldTyping(t)
	say("/wallet set")
	say(chatKey)
	say("@demo hello")
	waitForOutput(t, out, "Demo: Echo from")
	waitForOutput(t, s.Logs, `"msg":"replied"`)
	path, data := squarePNG(t)
	say("/attach " + path + " what is it?")
	waitForOutput(t, out, fakeopenrouter.ImageDigest(data))
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
