// Package devchat is `tzurot dev`'s offline chat: one Discord user on a terminal, real bot handlers.
package devchat

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/internal/discordsplit"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
)

// The offline chat's one user, guild and channel. Fixed so that a restarted
// `tzurot dev` finds the same conversation history and stored keys. The
// user is named, not "you": the name is what personalities call them and
// what their memories say they said ("Sam: …").
const (
	ChatUserID     = "100000000000000001"
	ChatUsername   = "sam" // Discord username
	ChatGlobalName = "Sam" // Discord display (global) name, which the bot shows
	ChatGuildID    = "1300000000000000001"
	ChatChannelID  = "900000000000000001"
	ChatChannel    = "#general"
)

// ChatOptions configure a Chat.
type ChatOptions struct {
	// Bot is the real bot; its REST session must point at Discord.
	Bot *bot.Bot
	// Discord is the fake the bot and the worker talk to. Its OnMessage hook
	// must call Show, or the chat shows no answers.
	Discord *fakediscord.Server
	In      io.Reader
	Out     io.Writer
	// Terminal is set when In and Out are a person's terminal: lines are
	// read with readline (editing, history, key fields masked), answers
	// that arrive while they type are printed above the prompt, and a
	// streamed reply is redrawn in place as it grows (live.go). Otherwise
	// what was read is echoed, so a transcript reads like a conversation,
	// each line is read once the workflows the one before started have
	// finished, so a script runs in order (NewChat then wraps Bot's Temporal
	// client to know them), and a streamed reply is printed once, complete.
	Terminal bool
	// Linger is how long the input must have ended with nothing new shown
	// before Run returns: a script's last line usually asks for an answer
	// that arrives asynchronously.
	Linger time.Duration
	// Revoke, when set, makes the provider's stand-in refuse the user's
	// stored key from now on, as deleting it on the provider's site would
	// (`!revoke openrouter`); it returns what to tell the user.
	Revoke func(ctx context.Context, provider string) (string, error)
	// OpenRouter is the OpenRouter stand-in, whose last chat request
	// /prompt shows; nil when a real OpenRouter is configured.
	OpenRouter *fakeopenrouter.Server
	// Example is a message that reaches a personality, used in hints
	// ("@demo hello").
	Example string
}

// Chat plays one Discord user on a terminal: what is typed becomes gateway
// events for the real bot handlers, and what Discord would show that user
// (personality posts, DMs, private answers) is printed as it arrives.
type Chat struct {
	opts  ChatOptions
	appID string
	defs  map[string]*discordgo.ApplicationCommand

	mu       sync.Mutex
	channel  string // the channel typed messages go to
	dm       string // the DM channel with the bot, once opened
	in       lineSource
	pending  []string // lines to read before the input's: see unread
	shown    map[string]string
	channels map[string]string             // id → "#name" of the guild channels moved to (/channel NAME)
	lastPost map[string]*discordgo.Message // per channel, for /reply
	lastSeen time.Time                     // last input or output, for Linger
	started  *startedRuns                  // the bot's workflow starts, for a script (waitForLine) and /attach
	// buttons are the buttons of the latest message shown with buttons
	// (label in lower case → custom id);
	// pressing is true while /press waits for the bot, whose update of an
	// ephemeral message is only the user's too.
	buttons          map[string]string
	buttonLabels     []string // as shown, in order, for a /press with no match
	buttonsMessage   string   // the id of the message they are on
	buttonsEphemeral bool
	pressing         bool

	signedMu sync.Mutex
	signed   map[string]string // per attachment URL, the signed link shown (attachmentLines)

	idMu   sync.Mutex
	lastID uint64

	// guild is the server the stand-in and the bot's state know (guild.go).
	guild *guild
	// screen prints messages, growing ones as they grow (live.go).
	screen *screen
}

// NewChat builds a chat in #general.
func NewChat(opts ChatOptions) *Chat {
	if opts.Example == "" {
		opts.Example = "@name hello"
	}
	c := &Chat{
		opts:     opts,
		appID:    opts.Discord.Options().ApplicationID,
		defs:     map[string]*discordgo.ApplicationCommand{},
		channel:  ChatChannelID,
		shown:    map[string]string{},
		signed:   map[string]string{},
		channels: map[string]string{ChatChannelID: ChatChannel},
		lastPost: map[string]*discordgo.Message{},
		guild:    newGuild(opts.Discord.BotUserID(), opts.Discord.Options().BotUsername),
	}
	c.screen = newScreen(opts.Terminal, c.columns)
	for _, d := range opts.Bot.Commands() {
		c.defs[d.Name] = d
	}
	// A script waits for each line's workflows (waitForLine) and /attach
	// says when its message started none: the bot's Temporal client is
	// wrapped to know which it starts. The chat's bot is its own, driven
	// only by the chat.
	c.started = newStartedRuns(opts.Bot.Temporal)
	opts.Bot.UseTemporal(c.started)
	return c
}

// Run reads lines until quit, end of input or ctx ends.
func (c *Chat) Run(ctx context.Context) error {
	// One reader only: a second one would take some of the typing.
	var in lineSource
	if c.opts.Terminal {
		t, err := newTerminalInput(ctx, c.opts.In, c.opts.Out)
		if err != nil {
			return err
		}
		in = t
	} else {
		in = newScriptInput(ctx, c.opts.In)
	}
	defer in.close()
	c.mu.Lock()
	c.in = in
	c.mu.Unlock()
	// A script's growing messages are printed once their line's
	// workflows have ended (waitForLine), once settled, and at the end.
	defer c.flush()
	if !c.opts.Terminal {
		settleCtx, stop := context.WithCancel(ctx)
		defer stop()
		go c.flushSettled(settleCtx)
	}
	c.openGuild(ctx)
	for {
		line, ok := c.readLine(ctx, c.channelPrompt(), false)
		if !ok {
			break
		}
		line = strings.TrimSpace(line)
		switch strings.ToLower(line) {
		case "":
			continue
		case "quit", "exit", "/quit", "/exit":
			c.linger(ctx)
			return nil
		}
		c.echo(line)
		mark, replies := c.started.count(), 0
		switch {
		case strings.HasPrefix(line, "/"):
			replies = c.command(ctx, line)
		case strings.HasPrefix(strings.ToLower(line), "!revoke"):
			c.demoCommand(ctx, line)
		default:
			replies = c.say(ctx, line, nil)
		}
		c.waitForLine(ctx, mark, replies)
		c.flush()
	}
	if ctx.Err() != nil {
		return nil
	}
	c.linger(ctx)
	if err := in.err(); err != nil {
		return fmt.Errorf("read the chat input: %w", err)
	}
	return nil
}

// Show prints a message Discord recorded, as this user would see it: none
// in a channel they cannot read (canRead). It is the fake's OnMessage
// hook, so it runs on the fake's request goroutines.
func (c *Chat) Show(m fakediscord.Message) {
	if !c.canRead(m.ChannelID) {
		return
	}
	labels, _ := buttonsOf(m)
	c.signedMu.Lock()
	files := attachmentLines(m, c.signed)
	c.signedMu.Unlock()
	text := renderWithFiles(m, c.mentionName, files) + renderButtons(labels)
	dm, _ := c.opts.Discord.DMChannel(ChatUserID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rememberButtonsLocked(m)
	c.lastSeen = time.Now()
	prev, seen := c.shown[m.ID]
	interactionAnswer := m.WebhookID != "" && m.WebhookID == c.appID
	v := view{id: m.ID, channelID: m.ChannelID, label: c.labelLocked(m, interactionAnswer, dm),
		body: text, files: files, live: mayStream(m, c.appID)}
	if m.Deleted {
		// Gone from the channel, as a client shows it (MESSAGE_DELETE).
		delete(c.shown, m.ID)
		if seen && strings.TrimSpace(prev) != "" {
			c.writeLocked(c.screen.deleted(v))
		}
		return
	}
	c.shown[m.ID] = text
	// Deferred answers ("thinking…") are empty until they are edited.
	if strings.TrimSpace(text) == "" || (seen && prev == text) {
		return
	}
	if dm != "" {
		c.dm = dm
	}
	// A press's update replaces the pressed message: its new state, not an edit.
	v.edited = seen && prev != "" && !(c.pressing && interactionAnswer)
	if !m.Ephemeral() && !interactionAnswer {
		c.lastPost[m.ChannelID] = &discordgo.Message{
			ID: m.ID, ChannelID: m.ChannelID, Content: m.Content, WebhookID: m.WebhookID,
			Author: &discordgo.User{ID: m.Author.ID, Username: m.Author.Username, Bot: m.Author.Bot},
		}
	}
	c.writeLocked(c.screen.message(v))
}

// labelLocked is the label m is shown with: who wrote it, where (a DM, a
// channel other than the current one), or "(only you)".
func (c *Chat) labelLocked(m fakediscord.Message, interactionAnswer bool, dm string) string {
	if dm == "" {
		dm = c.dm
	}
	switch {
	case m.Ephemeral(), c.pressing && interactionAnswer:
		return "(only you)"
	case m.ChannelID == dm && dm != "":
		return "DM from " + m.Author.Username + ":"
	case m.ChannelID != c.channel:
		return "[" + c.channelNameLocked(m.ChannelID) + "] " + m.Author.Username + ":"
	}
	return m.Author.Username + ":"
}

// command runs a slash command line: the chat's own (chatHelps) or the
// bot's. It returns how many replies a message it posted started (/reply,
// /attach); the workflows an interaction starts are started when it
// returns.
func (c *Chat) command(ctx context.Context, line string) int {
	// /reply takes free text, which must not be parsed as options.
	first, rest, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
	switch {
	case strings.EqualFold(first, "reply"):
		return c.reply(ctx, strings.TrimSpace(rest))
	case strings.EqualFold(first, "press"):
		c.press(ctx, rest)
		return 0
	case strings.EqualFold(first, "attach"):
		return c.attach(ctx, rest)
	case strings.EqualFold(first, "link"):
		c.link(rest)
		return 0
	}
	c.slashCommand(ctx, line)
	return 0
}

// slashCommand runs one of the other commands: the chat's /help, /dm,
// /channel and /prompt, or the bot's.
func (c *Chat) slashCommand(ctx context.Context, line string) {
	args, ok := splitArgs(strings.TrimPrefix(line, "/"))
	if !ok {
		c.println("A quote is not closed; write values with spaces as name:\"two words\".")
		return
	}
	if len(args) == 0 {
		c.println("Type a command after the slash, e.g. /wallet set; /help lists them.")
		return
	}
	name := strings.ToLower(args[0])
	switch name {
	case "help":
		c.println(c.help(args[1:]))
		return
	case "dm":
		c.openDM(ctx)
		return
	case "prompt":
		c.showPrompt()
		return
	case "channel":
		c.moveTo(ctx, strings.Join(args[1:], "-"))
		return
	}
	def, ok := c.defs[name]
	if !ok {
		c.println(fmt.Sprintf("There is no /%s. Commands: %s; /help explains them.", args[0], c.commandList()))
		return
	}
	opts, err := parseCommand(def, args[1:])
	if err != nil {
		c.println(err.Error())
		return
	}
	ic := c.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: c.snowflake(), Name: def.Name, CommandType: discordgo.ChatApplicationCommand, Options: opts,
	})
	c.handleInteraction(ctx, ic)
}

// tooLong says why Discord would not take text as a message's content —
// over discordsplit.Limit (2,000) characters, counted in code points as
// Discord does; it answers such a post with 400, code 50035 Invalid Form
// Body — or "" when it would.
func tooLong(text string) string {
	if n := discordsplit.Len(text); n > discordsplit.Limit {
		return fmt.Sprintf("Not sent: Discord takes messages of up to %d characters (longer ones get 400, 50035 Invalid Form Body) and this one has %d; shorten it or send it in parts.", discordsplit.Limit, n)
	}
	return ""
}

// say posts a message in the current channel; ref makes it a reply. It
// returns how many replies the message started (bot.HandleMessage); in a
// guild channel a message that started none says so, as /attach does —
// Discord shows nothing, but the chat's user would wait for an answer.
func (c *Chat) say(ctx context.Context, text string, ref *discordgo.Message) int {
	c.mu.Lock()
	ch, dm := c.channel, c.channel == c.dm && c.dm != ""
	c.mu.Unlock()
	if looksLikeKey(text) {
		c.println(keyNotPosted(dm))
		return 0
	}
	if why := tooLong(text); why != "" {
		c.println(why)
		return 0
	}
	guildID := ChatGuildID
	if dm {
		guildID = ""
	}
	started := c.post(ctx, ch, guildID, c.withMentions(text), ref)
	if started == 0 && !dm {
		c.println(noOneAddressed(ref, c.opts.Example))
	}
	return started
}

// noOneAddressed is the chat's line for a guild message that started no
// reply: mention a personality; a reply to a message no personality posted
// (the bot's own, a user's) reaches none, as on Discord.
func noOneAddressed(ref *discordgo.Message, example string) string {
	if ref != nil {
		return "(no personality addressed: " + ref.Author.Username + "'s message is not a personality's, so a reply to it reaches none; mention one, e.g. " + example + ")"
	}
	return "(no personality addressed: mention one to talk to it, e.g. " + example + ")"
}

func (c *Chat) reply(ctx context.Context, text string) int {
	c.mu.Lock()
	ref := c.lastPost[c.channel]
	c.mu.Unlock()
	switch {
	case text == "":
		c.println("Write what to answer: /reply that is funny")
	case ref == nil:
		c.println("Nothing to reply to here yet; talk to a personality first, e.g. " + c.opts.Example)
	default:
		return c.say(ctx, text, ref)
	}
	return 0
}

func (c *Chat) openDM(ctx context.Context) {
	ch, err := c.opts.Bot.Session.UserChannelCreate(ChatUserID, discordgo.WithContext(ctx))
	if err != nil {
		c.println("Could not open a DM with the bot: " + err.Error())
		return
	}
	c.mu.Lock()
	c.dm, c.channel = ch.ID, ch.ID
	c.mu.Unlock()
	c.println("You are in your DMs with Tzurot: a personality you talked to here answers without a mention. /channel goes back to " + ChatChannel + ".")
}

func (c *Chat) user() *discordgo.User {
	return &discordgo.User{ID: ChatUserID, Username: ChatUsername, GlobalName: ChatGlobalName}
}

// interaction builds an interaction from this user in the current channel and
// tells the fake about it, so it accepts and lists the bot's answers.
func (c *Chat) interaction(typ discordgo.InteractionType, data discordgo.InteractionData) *discordgo.InteractionCreate {
	c.mu.Lock()
	ch, dm := c.channel, c.channel == c.dm && c.dm != ""
	c.mu.Unlock()
	id := c.snowflake()
	token := "chat-" + id
	c.opts.Discord.AddInteraction(fakediscord.Interaction{ID: id, Token: token, ChannelID: ch})
	in := &discordgo.Interaction{
		ID: id, AppID: c.appID, Type: typ, Token: token, ChannelID: ch, Data: data,
		Locale: discordgo.EnglishUS, Version: 1,
	}
	if dm {
		in.User = c.user()
	} else {
		in.GuildID = ChatGuildID
		in.Member = &discordgo.Member{GuildID: ChatGuildID, User: c.user()}
	}
	return &discordgo.InteractionCreate{Interaction: in}
}

// snowflake issues ids in Discord's shape, time first, so ids from an
// earlier run (kept in workflow ids and history) are never reused.
func (c *Chat) snowflake() string {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	id := uint64(time.Now().UnixMilli()-1420070400000)<<22 | 2<<17
	if id <= c.lastID {
		id = c.lastID + 1
	}
	c.lastID = id
	return strconv.FormatUint(id, 10)
}
