// Package bot is tzurot's Discord front door: one discordgo session, one
// interaction entry point that routes by type and then by command name or
// custom-id prefix, message routing to personalities — and every user action
// becomes a workflow start. Anything private is ephemeral; a key a user types
// is sealed at once and never logged.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/store"
)

// Deps are the bot's clients.
type Deps struct {
	Session  *discordgo.Session
	Temporal client.Client
	DB       *ent.Client
	Keys     *keycrypt.Keyring
	Config   config.Config
	Log      *slog.Logger
	// Memory is the long-term memory the /memory commands show and forget;
	// nil answers them with "not available".
	Memory memory.Index
	// Now is the clock, replaceable in tests.
	Now func() time.Time
	// TypingInterval is how often the typing indicator is sent again while
	// a reply is being made; 0 means DefaultTypingInterval. Tests shorten it.
	TypingInterval time.Duration
}

// Bot routes Discord events to handlers.
type Bot struct {
	Deps
	commands map[string]*command
	// modals and buttons are keyed by the custom-id prefix before the first ':'.
	modals        map[string]handlerFunc
	buttons       map[string]handlerFunc
	wallet        *windowLimiter
	store         *store.Store
	personalities *personalityCache
	deny          denyList
	// typing tracks in-flight replies per channel for the typing indicator:
	// a message our webhook or bot posts in the channel wakes them to check
	// whether it was their reply.
	typingMu sync.Mutex
	typing   map[string]map[chan struct{}]struct{}
	// attrs is which Tzurot search attributes the namespace has, asked at
	// the first start: only those are set.
	attrs *searchattr.Known
}

// handlerFunc handles one interaction; an error is answered and logged in one place.
type handlerFunc func(ctx context.Context, in *Interaction) error

// command is one slash command: its definition and its handlers.
type command struct {
	def          *discordgo.ApplicationCommand
	run          handlerFunc
	autocomplete func(ctx context.Context, in *Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error)
}

// New builds the bot and its command table.
func New(d Deps) *Bot {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TypingInterval <= 0 {
		d.TypingInterval = DefaultTypingInterval
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		Deps:          d,
		commands:      map[string]*command{},
		modals:        map[string]handlerFunc{},
		buttons:       map[string]handlerFunc{},
		wallet:        newWindowLimiter(d.Config.LimitWalletWritesPer15Min, 15*time.Minute),
		store:         store.New(d.DB),
		personalities: &personalityCache{ttl: 30 * time.Second},
		typing:        map[string]map[chan struct{}]struct{}{},
		attrs:         searchattr.NewKnown(d.Temporal, d.Config.TemporalNamespace),
	}
	b.attrs.Log = d.Log
	for _, c := range []*command{
		b.walletCommand(),
		b.timezoneCommand(),
		b.usageCommand(),
		b.adminCommand(),
		b.personalityCommand(),
		b.configCommand(),
		b.imagineCommand(),
		b.memoryCommand(),
		b.dataCommand(),
	} {
		b.commands[c.def.Name] = c
	}
	b.modals[walletModalPrefix] = b.walletModalSubmit
	b.buttons[memoryButtonPrefix] = b.memoryButton
	b.buttons[dataButtonPrefix] = b.dataButton
	return b
}

// Commands are the definitions registered with Discord, sorted by name.
func (b *Bot) Commands() []*discordgo.ApplicationCommand {
	var out []*discordgo.ApplicationCommand
	for _, name := range sortedKeys(b.commands) {
		out = append(out, b.commands[name].def)
	}
	return out
}

// RegisterCommands replaces the application's commands with ours in one bulk
// overwrite: in DISCORD_DEV_GUILD_ID only when set (instant), else globally.
func (b *Bot) RegisterCommands(appID string) error {
	_, err := b.Session.ApplicationCommandBulkOverwrite(appID, b.Config.DiscordDevGuildID, b.Commands())
	if err != nil {
		return fmt.Errorf("register slash commands: %w", err)
	}
	return nil
}

// Intents are the gateway events the bot uses: guild and DM messages (with
// their content, to find mentions) — interactions need no intent.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentMessageContent

// Run connects to the gateway as the configured shard (BOT_SHARD_ID,
// BOT_SHARD_COUNT) — retrying with backoff while Discord or the network is
// unreachable (open) — registers the commands (shard 0 only) and serves
// until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	s := b.Session
	s.Identify.Intents = Intents
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { b.HandleInteraction(ctx, i) })
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { b.HandleMessage(ctx, m) })
	s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { b.HandleGuildCreate(ctx, g) })
	ready := make(chan *discordgo.Ready, 1)
	s.AddHandlerOnce(func(_ *discordgo.Session, r *discordgo.Ready) { ready <- r })
	shard, err := b.open(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close()
	select {
	case r := <-ready:
		if registersCommands(shard) {
			if err := b.RegisterCommands(r.User.ID); err != nil {
				return err
			}
		}
		b.Log.Info("bot connected", "user", r.User.Username, "guilds", len(r.Guilds), "dev_guild", b.Config.DiscordDevGuildID,
			"shard_id", shard[0], "shard_count", shard[1], "registers_commands", registersCommands(shard))
	case <-time.After(30 * time.Second):
		return errors.New("the Discord gateway sent no READY in 30 s: check DISCORD_TOKEN and the network")
	case <-ctx.Done():
		return nil
	}
	<-ctx.Done()
	b.Log.Info("bot stopping")
	return nil
}

// UseTemporal makes the bot start every workflow through c from now on —
// replies included, which otherwise go through the client the bot was
// built with: the offline chat wraps the client to wait for what each line
// started. Call it before the bot handles anything.
func (b *Bot) UseTemporal(c client.Client) {
	b.Temporal = c
	b.attrs = searchattr.NewKnown(c, b.Config.TemporalNamespace)
}

// HandleInteraction is the one entry point for interactions.
func (b *Bot) HandleInteraction(ctx context.Context, ic *discordgo.InteractionCreate) {
	in := newInteraction(b, ic)
	err := b.refuseDenied(ctx, in)
	switch {
	case err != nil:
	case ic.Type == discordgo.InteractionApplicationCommand:
		c, ok := b.commands[ic.ApplicationCommandData().Name]
		if !ok {
			err = UserError("That command is not known to this bot version; Discord may still be updating its list.")
			break
		}
		err = c.run(ctx, in)
	case ic.Type == discordgo.InteractionApplicationCommandAutocomplete:
		err = b.autocomplete(ctx, in)
	case ic.Type == discordgo.InteractionModalSubmit:
		err = b.byCustomID(ctx, in, b.modals, ic.ModalSubmitData().CustomID, "That form has expired; run the command again.")
	case ic.Type == discordgo.InteractionMessageComponent:
		err = b.byCustomID(ctx, in, b.buttons, ic.MessageComponentData().CustomID, "That button has expired; run the command again.")
	default:
		return
	}
	if err != nil {
		b.fail(in, err)
	}
}

// byCustomID runs the handler of handlers named by the custom id's prefix
// (before the first ':'), or refuses with expired.
func (b *Bot) byCustomID(ctx context.Context, in *Interaction, handlers map[string]handlerFunc, customID, expired string) error {
	prefix, _, _ := strings.Cut(customID, ":")
	h, ok := handlers[prefix]
	if !ok {
		return UserError("%s", expired)
	}
	return h(ctx, in)
}

// maxChoices is the most choices an autocomplete answer may hold
// (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-autocomplete).
const maxChoices = 25

func (b *Bot) autocomplete(ctx context.Context, in *Interaction) error {
	c, ok := b.commands[in.ApplicationCommandData().Name]
	if !ok || c.autocomplete == nil {
		return nil
	}
	choices, err := c.autocomplete(ctx, in)
	if err != nil {
		return err
	}
	if len(choices) > maxChoices {
		choices = choices[:maxChoices]
	}
	return b.Session.InteractionRespond(in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	})
}

// fail is the one place handler errors go: logged (redacted), and the user
// told in one ephemeral line.
func (b *Bot) fail(in *Interaction, err error) {
	var ue *userError
	msg := "Something went wrong on our side. Please try again in a moment."
	if errors.As(err, &ue) {
		msg = ue.msg
		b.Log.Info("interaction refused", "user", in.UserID, "reason", redact.String(ue.msg))
	} else {
		b.Log.Error("interaction failed", "user", in.UserID, "type", in.Type.String(), "err", redact.String(err.Error()))
	}
	if in.Type == discordgo.InteractionApplicationCommandAutocomplete {
		return
	}
	if rerr := in.Reply(msg); rerr != nil {
		b.Log.Error("could not tell the user about a failure", "err", redact.String(rerr.Error()))
	}
}

// userError is a refusal meant for the user, shown as it is.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

// UserError builds an error whose message the user sees.
func UserError(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...)}
}
