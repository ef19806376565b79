// Package devchat is the offline chat of `tzurot dev`: one Discord user on a
// terminal, whose lines become gateway events for the real bot handlers and
// who sees what Discord would show them.
package devchat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/bot"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// The offline chat's one user, guild and channel. Fixed so that a restarted
// `tzurot dev` finds the same conversation history and stored keys.
const (
	ChatUserID    = "100000000000000001"
	ChatUsername  = "you"
	ChatGuildID   = "1300000000000000001"
	ChatChannelID = "900000000000000001"
	ChatChannel   = "#general"
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
	// Interactive is set for a terminal: prompts are shown and redrawn under
	// answers that arrive while the user types. Otherwise what was typed is
	// echoed instead, so a transcript reads like a conversation.
	Interactive bool
	// HideInput, when set, stops the terminal echoing what is typed into a
	// secret form field (an API key); it returns the function that undoes it.
	HideInput func() (restore func())
	// Linger is how long the input must have ended with nothing new shown
	// before Run returns: a script's last line usually asks for an answer
	// that arrives asynchronously.
	Linger time.Duration
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
	prompt   string // the prompt on screen, to redraw under async output
	shown    map[string]string
	lastPost map[string]*discordgo.Message // per channel, for /reply
	lastSeen time.Time                     // last input or output, for Linger

	idMu   sync.Mutex
	lastID uint64
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
		lastPost: map[string]*discordgo.Message{},
	}
	for _, d := range opts.Bot.Commands() {
		c.defs[d.Name] = d
	}
	return c
}

// chatCommands are handled by the chat itself, not sent to the bot.
var chatCommands = []string{"help", "dm", "channel", "reply"}

// Run reads lines until quit, end of input or ctx ends.
func (c *Chat) Run(ctx context.Context) error {
	lines := make(chan string)
	var readErr error
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(c.opts.In)
		// A system prompt may be a few thousand characters on one line.
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr = sc.Err()
	}()
	for {
		line, ok := c.readLine(ctx, lines, c.channelPrompt())
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
		if strings.HasPrefix(line, "/") {
			c.command(ctx, line, lines)
		} else {
			c.say(ctx, line, nil)
		}
	}
	if c.opts.Interactive {
		fmt.Fprintln(c.opts.Out) // Ctrl-D or Ctrl-C left the cursor after the prompt
	}
	if ctx.Err() != nil {
		return nil
	}
	c.linger(ctx)
	// lines is closed, so the reader has stored its error.
	if readErr != nil {
		return fmt.Errorf("read the chat input: %w", readErr)
	}
	return nil
}

// readLine shows prompt (on a terminal) and waits for the next line.
func (c *Chat) readLine(ctx context.Context, lines <-chan string, prompt string) (string, bool) {
	c.mu.Lock()
	if c.opts.Interactive {
		c.prompt = prompt
		fmt.Fprint(c.opts.Out, prompt)
	}
	c.mu.Unlock()
	var line string
	var ok bool
	select {
	case line, ok = <-lines:
	case <-ctx.Done():
	}
	c.mu.Lock()
	c.prompt = "" // the user's Enter moved the cursor past it
	c.lastSeen = time.Now()
	c.mu.Unlock()
	return line, ok
}

func (c *Chat) linger(ctx context.Context) {
	if c.opts.Linger <= 0 {
		return
	}
	// Bounded, so a personality that keeps talking cannot hold the exit.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		quiet := time.Since(c.lastSeen) >= c.opts.Linger
		c.mu.Unlock()
		if quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Chat) channelPrompt() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channelNameLocked(c.channel) + " > "
}

func (c *Chat) channelNameLocked(id string) string {
	switch id {
	case ChatChannelID:
		return ChatChannel
	case c.dm:
		return "DM with Tzurot"
	}
	return "channel " + id
}

// echo repeats a typed line when there is no terminal to show it.
func (c *Chat) echo(line string) {
	if !c.opts.Interactive {
		c.println(ChatUsername + ": " + line)
	}
}

// println prints one block of output, keeping a prompt on screen below it.
func (c *Chat) println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printLocked(s)
}

func (c *Chat) printLocked(s string) {
	if c.opts.Interactive && c.prompt != "" {
		// Clear the prompt line, print, and put the prompt back.
		fmt.Fprint(c.opts.Out, "\r\033[K"+s+"\n"+c.prompt)
		return
	}
	fmt.Fprintln(c.opts.Out, s)
}

// Show prints a message Discord recorded, as this user would see it. It is
// the fake's OnMessage hook, so it runs on the fake's request goroutines.
func (c *Chat) Show(m fakediscord.Message) {
	text := renderMessage(m)
	dm, _ := c.opts.Discord.DMChannel(ChatUserID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastSeen = time.Now()
	prev, seen := c.shown[m.ID]
	c.shown[m.ID] = text
	// Deferred answers ("thinking…") are empty until they are edited.
	if m.Deleted || strings.TrimSpace(text) == "" || (seen && prev == text) {
		return
	}
	if dm != "" {
		c.dm = dm
	}
	interactionAnswer := m.WebhookID != "" && m.WebhookID == c.appID
	author := m.Author.Username
	var label string
	switch {
	case m.Ephemeral():
		label = "(only you)"
	case m.ChannelID == c.dm && c.dm != "":
		label = "DM from " + author + ":"
	default:
		label = author + ":"
		if m.ChannelID != c.channel {
			label = "[" + c.channelNameLocked(m.ChannelID) + "] " + label
		}
	}
	if seen && prev != "" {
		label += " (edited)"
	}
	if !m.Ephemeral() && !interactionAnswer {
		c.lastPost[m.ChannelID] = &discordgo.Message{
			ID: m.ID, ChannelID: m.ChannelID, Content: m.Content, WebhookID: m.WebhookID,
			Author: &discordgo.User{ID: m.Author.ID, Username: author, Bot: m.Author.Bot},
		}
	}
	c.printLocked(label + " " + strings.ReplaceAll(text, "\n", "\n    "))
}

func (c *Chat) command(ctx context.Context, line string, lines <-chan string) {
	// /reply takes free text, which must not be parsed as options.
	if first, rest, _ := strings.Cut(strings.TrimPrefix(line, "/"), " "); strings.EqualFold(first, "reply") {
		c.reply(ctx, strings.TrimSpace(rest))
		return
	}
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
	case "channel":
		c.mu.Lock()
		c.channel = ChatChannelID
		c.mu.Unlock()
		c.println("You are in " + ChatChannel + ".")
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
	c.handleInteraction(ctx, ic, lines)
}

func (c *Chat) commandList() string {
	names := append([]string{}, chatCommands...)
	for n := range c.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i := range names {
		names[i] = "/" + names[i]
	}
	return strings.Join(names, ", ")
}

// handleInteraction runs the bot's handler, then does what the Discord
// client would with its answer: open a form, or say the bot did not answer.
func (c *Chat) handleInteraction(ctx context.Context, ic *discordgo.InteractionCreate, lines <-chan string) {
	c.opts.Bot.HandleInteraction(ctx, ic)
	resps := c.opts.Discord.InteractionResponses(ic.ID)
	if len(resps) == 0 && ctx.Err() == nil {
		c.println("(Tzurot did not answer; Discord would say \"The application did not respond\". The log says why.)")
	}
	for _, r := range resps {
		if r.Status >= 300 {
			c.println(fmt.Sprintf("(Discord refused Tzurot's answer with HTTP %d; the log says why.)", r.Status))
			continue
		}
		if t, _ := r.JSON["type"].(float64); int(t) == int(discordgo.InteractionResponseModal) {
			data, _ := r.JSON["data"].(map[string]any)
			c.fillForm(ctx, data, lines)
		}
	}
}

// formField is one text input of a modal, as the bot sent it.
type formField struct {
	id, label, placeholder string
	required               bool
	min, max               int
}

// fillForm asks for each field of a modal on the terminal and submits it.
func (c *Chat) fillForm(ctx context.Context, data map[string]any, lines <-chan string) {
	customID, _ := data["custom_id"].(string)
	title, _ := data["title"].(string)
	var fields []formField
	for _, row := range anyList(data["components"]) {
		for _, comp := range anyList(row["components"]) {
			f := formField{}
			f.id, _ = comp["custom_id"].(string)
			f.label, _ = comp["label"].(string)
			f.placeholder, _ = comp["placeholder"].(string)
			f.required, _ = comp["required"].(bool)
			if v, ok := comp["min_length"].(float64); ok {
				f.min = int(v)
			}
			if v, ok := comp["max_length"].(float64); ok {
				f.max = int(v)
			}
			fields = append(fields, f)
		}
	}
	c.println(fmt.Sprintf("Tzurot opened a form, %q. Answer each field; an empty answer cancels it.", title))
	var rows []discordgo.MessageComponent
	for _, f := range fields {
		v, ok := c.askField(ctx, f, lines)
		if !ok {
			c.println("Form cancelled; nothing was sent.")
			return
		}
		rows = append(rows, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: f.id, Value: v},
		}})
	}
	ic := c.interaction(discordgo.InteractionModalSubmit, discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows})
	c.handleInteraction(ctx, ic, lines)
}

var secretField = regexp.MustCompile(`(?i)key|token|password|secret`)

func (c *Chat) askField(ctx context.Context, f formField, lines <-chan string) (string, bool) {
	prompt := "  " + f.label
	if f.placeholder != "" {
		prompt += " [" + f.placeholder + "]"
	}
	prompt += ": "
	secret := secretField.MatchString(f.id + " " + f.label)
	for {
		restore := func() {}
		if secret && c.opts.HideInput != nil {
			restore = c.opts.HideInput()
		}
		v, ok := c.readLine(ctx, lines, prompt)
		restore()
		if secret && c.opts.HideInput != nil && c.opts.Interactive {
			c.mu.Lock()
			fmt.Fprintln(c.opts.Out) // the hidden Enter did not move the cursor
			c.mu.Unlock()
		}
		if !ok {
			return "", false
		}
		v = strings.TrimSpace(v)
		if !c.opts.Interactive {
			shown := v
			if secret {
				shown = "(typed, not shown)"
			}
			c.println(prompt + shown)
		}
		n := utf8.RuneCountInString(v)
		switch {
		case v == "" && f.required:
			return "", false
		case v == "":
			return "", true
		case n < f.min || (f.max > 0 && n > f.max):
			c.println(fmt.Sprintf("  That is %d characters; this field takes %d to %d. Type it again, or an empty line to cancel.", n, f.min, f.max))
			continue
		}
		return v, true
	}
}

// say posts a message in the current channel; ref makes it a reply.
func (c *Chat) say(ctx context.Context, text string, ref *discordgo.Message) {
	c.mu.Lock()
	ch, dm := c.channel, c.channel == c.dm && c.dm != ""
	c.mu.Unlock()
	m := &discordgo.Message{
		ID: c.snowflake(), ChannelID: ch, Content: text, Timestamp: time.Now(),
		Author: c.user(), Type: discordgo.MessageTypeDefault,
	}
	if !dm {
		m.GuildID = ChatGuildID
	}
	if ref != nil {
		m.Type = discordgo.MessageTypeReply
		m.MessageReference = &discordgo.MessageReference{MessageID: ref.ID, ChannelID: ch, GuildID: m.GuildID}
		m.ReferencedMessage = ref
	}
	c.opts.Bot.HandleMessage(ctx, &discordgo.MessageCreate{Message: m})
}

func (c *Chat) reply(ctx context.Context, text string) {
	c.mu.Lock()
	ref := c.lastPost[c.channel]
	c.mu.Unlock()
	switch {
	case text == "":
		c.println("Write what to answer: /reply that is funny")
	case ref == nil:
		c.println("Nothing to reply to here yet; talk to a personality first, e.g. " + c.opts.Example)
	default:
		c.say(ctx, text, ref)
	}
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
	return &discordgo.User{ID: ChatUserID, Username: ChatUsername, GlobalName: ChatUsername}
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

// help is the chat's own help, or one command's options with "/help NAME".
func (c *Chat) help(args []string) string {
	var sb strings.Builder
	if len(args) > 0 {
		name := strings.TrimPrefix(strings.ToLower(args[0]), "/")
		def, ok := c.defs[name]
		if !ok {
			return fmt.Sprintf("There is no /%s. Commands: %s.", name, c.commandList())
		}
		for _, p := range commandPaths(def) {
			fmt.Fprintf(&sb, "/%s — %s\n", strings.TrimSpace(p.path+" "+usageOf(p.opts)), p.desc)
			for _, o := range p.opts {
				fmt.Fprintf(&sb, "    %s: %s%s\n", o.Name, o.Description, choiceList(o))
			}
		}
		return strings.TrimRight(sb.String(), "\n")
	}
	fmt.Fprintf(&sb, "You are %q in an offline Discord; the bot and the workflows are real.\n", ChatUsername)
	fmt.Fprintf(&sb, "  Type a message to post it in the channel; mention a personality to talk to it: %s\n", c.opts.Example)
	sb.WriteString("  /reply TEXT answers the last personality message here (no mention needed)\n")
	sb.WriteString("  /dm talks to the bot in a DM, /channel goes back to " + ChatChannel + "; quit stops\n")
	sb.WriteString("Slash commands (options as name:value; quote values with spaces: name:\"two words\"):\n")
	for _, name := range sortedNames(c.defs) {
		for _, p := range commandPaths(c.defs[name]) {
			fmt.Fprintf(&sb, "  /%s — %s\n", p.path, p.desc)
		}
	}
	sb.WriteString("/help NAME shows a command's options, e.g. /help wallet")
	return sb.String()
}

func sortedNames(m map[string]*discordgo.ApplicationCommand) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// commandPath is one invocable form of a command: "personality alias add".
type commandPath struct {
	path, desc string
	opts       []*discordgo.ApplicationCommandOption
}

func commandPaths(def *discordgo.ApplicationCommand) []commandPath {
	if !hasSubcommands(def.Options) {
		return []commandPath{{def.Name, def.Description, def.Options}}
	}
	var out []commandPath
	for _, o := range def.Options {
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand:
			out = append(out, commandPath{def.Name + " " + o.Name, o.Description, o.Options})
		case discordgo.ApplicationCommandOptionSubCommandGroup:
			for _, s := range o.Options {
				out = append(out, commandPath{def.Name + " " + o.Name + " " + s.Name, s.Description, s.Options})
			}
		}
	}
	return out
}

func hasSubcommands(opts []*discordgo.ApplicationCommandOption) bool {
	for _, o := range opts {
		if o.Type == discordgo.ApplicationCommandOptionSubCommand || o.Type == discordgo.ApplicationCommandOptionSubCommandGroup {
			return true
		}
	}
	return false
}

func usageOf(opts []*discordgo.ApplicationCommandOption) string {
	var parts []string
	for _, o := range opts {
		if o.Required {
			parts = append(parts, o.Name+":…")
		} else {
			parts = append(parts, "["+o.Name+":…]")
		}
	}
	return strings.Join(parts, " ")
}

func choiceList(o *discordgo.ApplicationCommandOption) string {
	if len(o.Choices) == 0 {
		return ""
	}
	return " (" + choiceNames(o) + ")"
}

func choiceNames(o *discordgo.ApplicationCommandOption) string {
	var names []string
	for _, ch := range o.Choices {
		names = append(names, ch.Name)
	}
	return strings.Join(names, ", ")
}

func optionNames(opts []*discordgo.ApplicationCommandOption) string {
	var names []string
	for _, o := range opts {
		names = append(names, o.Name)
	}
	return strings.Join(names, ", ")
}

// optionLike is what an option name looks like, to tell "colour:red" (a
// mistake) from "Note: be nice" (text).
var optionLike = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// parseCommand turns the words after "/name" into the options Discord would
// send, checked against the definition the way the Discord client checks them.
func parseCommand(def *discordgo.ApplicationCommand, args []string) ([]*discordgo.ApplicationCommandInteractionDataOption, error) {
	path := "/" + def.Name
	defs := def.Options
	// wrap nests the leaf options under the chosen subcommand (and group).
	wrap := func(leaf []*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
		return leaf
	}
	for hasSubcommands(defs) {
		if len(args) == 0 || strings.Contains(args[0], ":") {
			return nil, fmt.Errorf("%s needs one of: %s (e.g. %s %s)", path, optionNames(defs), path, defs[0].Name)
		}
		var sub *discordgo.ApplicationCommandOption
		for _, o := range defs {
			if strings.EqualFold(o.Name, args[0]) {
				sub = o
			}
		}
		if sub == nil {
			return nil, fmt.Errorf("%s has no %q; it has: %s", path, args[0], optionNames(defs))
		}
		outer := wrap
		wrap = func(leaf []*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
			return outer([]*discordgo.ApplicationCommandInteractionDataOption{{Name: sub.Name, Type: sub.Type, Options: leaf}})
		}
		path += " " + sub.Name
		defs, args = sub.Options, args[1:]
	}

	byName := map[string]*discordgo.ApplicationCommandOption{}
	for _, o := range defs {
		byName[o.Name] = o
	}
	noSuch := func(what string) error {
		if len(defs) == 0 {
			return fmt.Errorf("%s takes no options, but got %q", path, what)
		}
		return fmt.Errorf("%s has no option %q; its options: %s (written name:value; quote a value that has a colon)", path, what, optionNames(defs))
	}
	raw := map[string]string{}
	var order []string
	last := ""
	for _, a := range args {
		name, value, hasColon := strings.Cut(a, ":")
		if o, ok := byName[strings.ToLower(name)]; hasColon && ok {
			if _, dup := raw[o.Name]; dup {
				return nil, fmt.Errorf("%s: %s is given twice", path, o.Name)
			}
			raw[o.Name], last = value, o.Name
			order = append(order, o.Name)
			continue
		}
		// A misspelt option name must be reported, not swallowed below.
		if hasColon && optionLike.MatchString(name) && !strings.HasPrefix(value, "//") {
			return nil, noSuch(name)
		}
		// Unquoted words after a text option continue it, as typing in
		// Discord's option box would.
		if last != "" && byName[last].Type == discordgo.ApplicationCommandOptionString {
			raw[last] += " " + a
			continue
		}
		if hasColon {
			return nil, noSuch(name)
		}
		return nil, noSuch(a)
	}
	var leaf []*discordgo.ApplicationCommandInteractionDataOption
	for _, name := range order {
		o := byName[name]
		v, err := optionValue(o, raw[name])
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", path, name, err)
		}
		leaf = append(leaf, &discordgo.ApplicationCommandInteractionDataOption{Name: o.Name, Type: o.Type, Value: v})
	}
	for _, o := range defs {
		if _, ok := raw[o.Name]; o.Required && !ok {
			return nil, fmt.Errorf("%s needs %s:… — %s (usage: %s %s)", path, o.Name, o.Description, path, usageOf(defs))
		}
	}
	return wrap(leaf), nil
}

// optionValue types a value as Discord's gateway JSON would decode it
// (numbers are float64).
func optionValue(o *discordgo.ApplicationCommandOption, s string) (any, error) {
	if len(o.Choices) > 0 {
		for _, ch := range o.Choices {
			if strings.EqualFold(s, ch.Name) || strings.EqualFold(s, fmt.Sprint(ch.Value)) {
				return jsonNumber(ch.Value), nil
			}
		}
		return nil, fmt.Errorf("must be one of: %s", choiceNames(o))
	}
	switch o.Type {
	case discordgo.ApplicationCommandOptionString:
		if s == "" {
			return nil, errors.New("is empty; write name:value, with quotes around spaces")
		}
		n := utf8.RuneCountInString(s)
		if o.MaxLength > 0 && n > o.MaxLength {
			return nil, fmt.Errorf("is %d characters; at most %d are allowed", n, o.MaxLength)
		}
		if o.MinLength != nil && n < *o.MinLength {
			return nil, fmt.Errorf("is %d characters; at least %d are needed", n, *o.MinLength)
		}
		return s, nil
	case discordgo.ApplicationCommandOptionInteger:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a whole number, not %q", s)
		}
		return checkRange(o, float64(n))
	case discordgo.ApplicationCommandOptionNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a number, not %q", s)
		}
		return checkRange(o, f)
	case discordgo.ApplicationCommandOptionBoolean:
		switch strings.ToLower(s) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, fmt.Errorf("must be true or false, not %q", s)
	case discordgo.ApplicationCommandOptionUser, discordgo.ApplicationCommandOptionMentionable:
		if id := strings.Trim(s, "<@!>"); strings.EqualFold(id, ChatUsername) {
			return ChatUserID, nil
		} else if isDigits(id) {
			return id, nil
		}
		return nil, fmt.Errorf("must be a user: @%s or a user id", ChatUsername)
	case discordgo.ApplicationCommandOptionChannel:
		if id := strings.Trim(s, "<#>"); strings.EqualFold(id, ChatChannel) || strings.EqualFold(id, "general") {
			return ChatChannelID, nil
		} else if isDigits(id) {
			return id, nil
		}
		return nil, fmt.Errorf("must be a channel: %s or a channel id", ChatChannel)
	case discordgo.ApplicationCommandOptionRole:
		if id := strings.Trim(s, "<@&>"); isDigits(id) {
			return id, nil
		}
		return nil, errors.New("must be a role id")
	}
	return nil, errors.New("cannot be given in the offline chat (files are not supported)")
}

func checkRange(o *discordgo.ApplicationCommandOption, v float64) (any, error) {
	if o.MinValue != nil && v < *o.MinValue {
		return nil, fmt.Errorf("must be at least %v", *o.MinValue)
	}
	if o.MaxValue != 0 && v > o.MaxValue {
		return nil, fmt.Errorf("must be at most %v", o.MaxValue)
	}
	return v, nil
}

func jsonNumber(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// splitArgs splits a command line into words; quotes group words and are
// removed, so name:"two words" is one word, name:two words. ok is false
// when a quote is left open.
func splitArgs(s string) (args []string, ok bool) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '“':
			// Apostrophes are not quotes: "that's" is a word.
			quote, inWord = '"', true
			if r == '“' {
				quote = '”'
			}
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, true
}

func anyList(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

var (
	timestampMarkup = regexp.MustCompile(`<t:(-?\d+)(?::([tTdDfFR]))?>`)
	userMarkup      = regexp.MustCompile(`<@!?(\d+)>`)
	channelMarkup   = regexp.MustCompile(`<#(\d+)>`)
)

// renderMessage is the text a Discord client shows for m: its content with
// timestamps and mentions resolved, and its embeds' text.
func renderMessage(m fakediscord.Message) string {
	text := timestampMarkup.ReplaceAllStringFunc(m.Content, func(s string) string {
		sub := timestampMarkup.FindStringSubmatch(s)
		sec, err := strconv.ParseInt(sub[1], 10, 64)
		if err != nil {
			return s
		}
		t := time.Unix(sec, 0)
		if sub[2] == "R" {
			return relative(time.Until(t))
		}
		return t.Local().Format("Mon 2 Jan 2006 15:04")
	})
	text = userMarkup.ReplaceAllStringFunc(text, func(s string) string {
		if userMarkup.FindStringSubmatch(s)[1] == ChatUserID {
			return "@" + ChatUsername
		}
		return "@someone"
	})
	text = channelMarkup.ReplaceAllStringFunc(text, func(s string) string {
		if channelMarkup.FindStringSubmatch(s)[1] == ChatChannelID {
			return ChatChannel
		}
		return "#a-channel"
	})
	for _, e := range m.Embeds {
		for _, k := range []string{"title", "description"} {
			if v, _ := e[k].(string); v != "" {
				text += "\n" + v
			}
		}
		for _, f := range anyList(e["fields"]) {
			name, _ := f["name"].(string)
			value, _ := f["value"].(string)
			text += "\n" + name + ": " + value
		}
	}
	// Files (an /imagine picture, a voice's MP3) are served by the stand-in
	// like Discord's CDN: open the link to see or hear them.
	for _, a := range m.Attachments {
		text += fmt.Sprintf("\n[attachment %s, %s, %.1f KB] %s", a.Filename, a.ContentType, float64(a.Size)/1024, a.URL)
	}
	return strings.TrimSpace(text)
}

// relative renders a duration the way Discord's R timestamps do.
func relative(d time.Duration) string {
	future := d > 0
	if d < 0 {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "a few seconds"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
