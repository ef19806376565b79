package devrun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/store"
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

// runChat runs the offline chat on in and out (the terminal's stdin and
// stdout) with the real bot handlers, until quit, end of input or ctx ends.
// openRouter is the OpenRouter stand-in, nil when a real OpenRouter is
// configured.
func runChat(ctx context.Context, cfg config.Config, log *slog.Logger, dc *fakediscord.Server, slot *atomic.Pointer[devchat.Chat], openRouter *fakeopenrouter.Server,
	in io.Reader, out io.Writer) error {
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
		Memory: memory.NewPostgres(d.DB, memory.Options{}),
	})
	example := chatExample(ctx, d.Ent)
	// Line editing, masked keys and redraws need a terminal both ways.
	inFile, _ := in.(*os.File)
	outFile, _ := out.(*os.File)
	opts := devchat.ChatOptions{Bot: b, Discord: dc, In: in, Out: out, Example: example,
		Terminal: inFile != nil && outFile != nil && isTerminal(inFile) && isTerminal(outFile)}
	if inFile == nil || !isTerminal(inFile) {
		opts.Linger = 5 * time.Second
	}
	if openRouter != nil {
		opts.OpenRouter = openRouter
		opts.Revoke = func(ctx context.Context, _ string) (string, error) {
			return revokeStoredKey(ctx, d.Ent, d.Activities.Keys, openRouter)
		}
	}
	c := devchat.NewChat(opts)
	slot.Store(c)
	defer slot.Store(nil)
	fmt.Fprint(out, banner(example, openRouter != nil, chatKeys(ctx, d.Ent)))
	err = c.Run(ctx)
	fmt.Fprintln(out, "Stopping tzurot dev…")
	return err
}

// banner is the chat's greeting. keys are the chat user's stored keys, by
// provider id, switched on or not (chatKeys): it asks for an OpenRouter key
// while none is stored, and says so when the stored one is switched off
// (a provider refused it), which /wallet test or /wallet set fixes.
func banner(example string, standIn bool, keys map[string]bool) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\ntzurot dev is up. You are %s (@%s) in %s of an offline Discord; the bot, the workflows and the database are real.\n",
		devchat.ChatGlobalName, devchat.ChatUsername, devchat.ChatChannel)
	textOn, textStored := keys[provider.OpenRouter]
	switch {
	case !textStored:
		hint := "paste any sk-or-v1-… key: the offline OpenRouter accepts any and echoes you"
		if !standIn {
			hint = "paste your OpenRouter key (https://openrouter.ai/keys)"
		}
		fmt.Fprintf(&sb, "  %-15s store your API key first: %s\n", "/wallet set", hint)
	case !textOn:
		fmt.Fprintf(&sb, "  %-15s your OpenRouter key was switched off (OpenRouter refused it), so replies fail: check it again with /wallet test, or store another with /wallet set\n", "/wallet test")
	}
	fmt.Fprintf(&sb, "  %-15s talk to a personality; it answers in the channel\n", example)
	voiceOn, voiceStored := keys[provider.ElevenLabs]
	switch {
	case !voiceStored:
		sb.WriteString("  @voice hello    a personality that speaks too, after /wallet set provider:elevenlabs\n")
	case !voiceOn:
		sb.WriteString("  @voice hello    a personality that speaks too; your ElevenLabs key was switched off: /wallet test provider:elevenlabs\n")
	case !textOn:
		sb.WriteString("  @voice hello    a personality that speaks too with your ElevenLabs key, once your OpenRouter key works: it writes the words\n")
	default:
		sb.WriteString("  @voice hello    a personality that speaks too, with your ElevenLabs key\n")
	}
	if standIn {
		sb.WriteString("  !revoke openrouter  the stand-in refuses your stored key: the next reply switches it off and DMs you\n")
	}
	sb.WriteString("  /help           the slash commands, /dm, /reply\n")
	sb.WriteString("  quit            stop everything (Ctrl-D works too)\n")
	fmt.Fprintf(&sb, "Watch the workflows at http://127.0.0.1:%d — logs are in %s.\n\n", devstack.UIPort, devLogPath)
	return sb.String()
}

// startLine is what the terminal shows while the stack starts; building the
// Temporal CLI is mentioned only when it is about to happen.
func startLine(buildsCLI bool) string {
	line := "Starting PostgreSQL, Temporal and the worker"
	if buildsCLI {
		line += " (first, the Temporal CLI is built into ./bin: a few minutes, once)"
	}
	return line + ".\nLogs go to " + devLogPath + ".\n"
}

// chatKeys are the chat user's stored keys: provider id → switched on. None
// when they cannot be read (the banner then asks for a key).
func chatKeys(ctx context.Context, db *ent.Client) map[string]bool {
	keys, err := store.New(db).Keys(ctx, devchat.ChatUserID)
	if err != nil {
		return nil
	}
	on := make(map[string]bool, len(keys))
	for _, k := range keys {
		on[k.Provider] = k.IsActive
	}
	return on
}

// revokeStoredKey makes the OpenRouter stand-in answer 401 for the chat
// user's stored key, as deleting it on openrouter.ai does, so that the next
// reply shows what the product does then: GenerateReply switches the key off
// and DMs its owner.
func revokeStoredKey(ctx context.Context, db *ent.Client, keys *keycrypt.Keyring, fake *fakeopenrouter.Server) (string, error) {
	k, err := store.New(db).Key(ctx, devchat.ChatUserID, provider.OpenRouter)
	if ent.IsNotFound(err) || (err == nil && !k.IsActive) {
		return "You have no active OpenRouter key to revoke: store one with /wallet set first.", nil
	}
	if err != nil {
		return "", err
	}
	plain, err := keys.Open(store.Sealed(k))
	if err != nil {
		return "", fmt.Errorf("open the stored key: %w", err)
	}
	fake.Revoke(plain)
	return "The OpenRouter stand-in now refuses your stored key (401), as if you had deleted it on openrouter.ai. Talk to a personality: the reply fails, the key is switched off and Tzurot DMs you.", nil
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
