package devrun

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/devchat"
	"github.com/tzurot/tzurot/internal/devstack"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// wantChat: TZUROT_CHAT=1 or 0 decides; otherwise a person at a terminal gets
// the chat, and CI, nohup and services (stdin a pipe or /dev/null) do not.
func wantChat(stdin *os.File) bool {
	switch os.Getenv("TZUROT_CHAT") {
	case "1":
		return true
	case "0":
		return false
	}
	return isTerminal(stdin)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	// /dev/null is a character device too, and what services get as stdin.
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}

// runChat runs the offline chat on this terminal with the real bot handlers,
// until quit, end of input or ctx ends.
func runChat(ctx context.Context, cfg config.Config, log *slog.Logger, dc *fakediscord.Server, slot *atomic.Pointer[devchat.Chat], anyKey bool) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	// On their own offline bot, the newcomer is the operator, so the seeded
	// personality and the operator commands can be tried too.
	botCfg := cfg
	if botCfg.BotOwnerDiscordID == "" {
		botCfg.BotOwnerDiscordID = devchat.ChatUserID
	}
	b := bot.New(bot.Deps{
		Session: d.Activities.Discord, Temporal: d.Temporal, DB: d.Ent, Keys: d.Activities.Keys, Config: botCfg, Log: log,
	})
	example := chatExample(ctx, d.Ent)
	// Prompts and redraws need a screen; hiding a typed key needs a keyboard.
	opts := devchat.ChatOptions{Bot: b, Discord: dc, In: os.Stdin, Out: os.Stdout, Example: example,
		Interactive: isTerminal(os.Stdin) && isTerminal(os.Stdout)}
	if isTerminal(os.Stdin) {
		opts.HideInput = func() func() { return hideEcho(os.Stdin) }
	} else {
		opts.Linger = 5 * time.Second
	}
	c := devchat.NewChat(opts)
	slot.Store(c)
	defer slot.Store(nil)
	keyHint := "paste any sk-or-v1-… key: the offline OpenRouter accepts any and echoes you"
	if !anyKey {
		keyHint = "paste your OpenRouter key (https://openrouter.ai/keys)"
	}
	fmt.Printf(`
tzurot dev is up. You are %q in %s of an offline Discord; the bot, the workflows and the database are real.
  /wallet set     store your API key first: %s
  %-15s talk to a personality; it answers in the channel
  @voice hello    a personality that speaks too, after /wallet set provider:elevenlabs
  /help           the slash commands, /dm, /reply
  quit            stop everything (Ctrl-D works too)
Watch the workflows at http://127.0.0.1:%d — logs are in %s.

`, devchat.ChatUsername, devchat.ChatChannel, keyHint, example, devstack.UIPort, devLogPath)
	err = c.Run(ctx)
	fmt.Println("Stopping tzurot dev…")
	return err
}

// chatExample is a first message that reaches a personality: the seeded demo
// one when it is there.
func chatExample(ctx context.Context, db *ent.Client) string {
	p, err := db.Personality.Query().Where(personality.Name("tzurot-demo")).WithAliases().First(ctx)
	if err != nil {
		p, err = db.Personality.Query().Order(ent.Asc(personality.FieldCreatedAt)).WithAliases().First(ctx)
	}
	if err != nil {
		return "@name hello"
	}
	name := p.Name
	if len(p.Edges.Aliases) > 0 && !strings.Contains(p.Edges.Aliases[0].Alias, " ") {
		name = strings.ToLower(p.Edges.Aliases[0].Alias)
	}
	return "@" + name + " hello"
}

// hideEcho stops the terminal echoing typed characters, through stty so that
// no terminal library is needed; without stty the typing stays visible.
func hideEcho(f *os.File) (restore func()) {
	off := exec.Command("stty", "-echo")
	off.Stdin = f
	if off.Run() != nil {
		return func() {}
	}
	return func() {
		on := exec.Command("stty", "echo")
		on.Stdin = f
		_ = on.Run()
	}
}
