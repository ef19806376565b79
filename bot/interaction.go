package bot

import (
	"sort"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/discordsplit"
)

// Interaction wraps one interaction with its acknowledgement state, so a
// handler can answer the same way whether or not it deferred first.
type Interaction struct {
	*discordgo.InteractionCreate
	b        *Bot
	acked    bool
	UserID   string
	Username string
}

func newInteraction(b *Bot, ic *discordgo.InteractionCreate) *Interaction {
	in := &Interaction{InteractionCreate: ic, b: b}
	switch {
	case ic.Member != nil && ic.Member.User != nil:
		in.UserID, in.Username = ic.Member.User.ID, ic.Member.User.Username
	case ic.User != nil:
		in.UserID, in.Username = ic.User.ID, ic.User.Username
	}
	return in
}

// Defer acknowledges at once (within Discord's 3 seconds), privately; the
// answer follows with Reply within 15 minutes.
func (in *Interaction) Defer() error {
	if in.acked {
		return nil
	}
	return in.callback(discordgo.InteractionResponseDeferredChannelMessageWithSource,
		&discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral})
}

// Reply answers privately: the response itself, or a follow-up after Defer.
func (in *Interaction) Reply(content string) error {
	return in.respond(content, discordgo.MessageFlagsEphemeral)
}

// ReplyPublic answers in the channel for everyone.
func (in *Interaction) ReplyPublic(content string) error { return in.respond(content, 0) }

// respond answers with content, in several messages when it is longer
// than Discord's 2000 characters: the first as the response (or a
// follow-up after Defer), the rest as follow-ups with the same flags, cut
// by discordsplit's rules.
func (in *Interaction) respond(content string, flags discordgo.MessageFlags) error {
	parts := discordsplit.Split(content, discordsplit.Limit)
	if len(parts) == 0 {
		parts = []string{content}
	}
	for _, part := range parts {
		if err := in.respondOne(part, flags); err != nil {
			return err
		}
	}
	return nil
}

func (in *Interaction) respondOne(content string, flags discordgo.MessageFlags, rows ...discordgo.MessageComponent) error {
	if in.acked {
		_, err := in.b.Session.FollowupMessageCreate(in.Interaction, true, &discordgo.WebhookParams{Content: content, Flags: flags,
			Components: rows, AllowedMentions: &discordgo.MessageAllowedMentions{}})
		return err
	}
	return in.callback(discordgo.InteractionResponseChannelMessageWithSource, &discordgo.InteractionResponseData{
		Content: content, Flags: flags, Components: rows, AllowedMentions: &discordgo.MessageAllowedMentions{}})
}

// callback is the interaction's one response, of type typ.
func (in *Interaction) callback(typ discordgo.InteractionResponseType, data *discordgo.InteractionResponseData) error {
	err := in.b.Session.InteractionRespond(in.Interaction, &discordgo.InteractionResponse{Type: typ, Data: data})
	if err == nil {
		in.acked = true
	}
	return err
}

// ReplyButtons answers privately with content and rows of buttons (at
// most Discord's 2000 characters: the caller keeps it short).
func (in *Interaction) ReplyButtons(content string, rows ...discordgo.MessageComponent) error {
	return in.respondOne(content, discordgo.MessageFlagsEphemeral, append([]discordgo.MessageComponent{}, rows...)...)
}

// Update answers a button press by replacing the message it is on: its
// content, and its buttons with rows (none when rows is empty).
func (in *Interaction) Update(content string, rows ...discordgo.MessageComponent) error {
	return in.callback(discordgo.InteractionResponseUpdateMessage, &discordgo.InteractionResponseData{Content: content,
		Components: append([]discordgo.MessageComponent{}, rows...), AllowedMentions: &discordgo.MessageAllowedMentions{}})
}

// ReplyFile sends content with one file privately, as a follow-up: Defer
// first.
func (in *Interaction) ReplyFile(content string, f *discordgo.File) error {
	_, err := in.b.Session.FollowupMessageCreate(in.Interaction, true, &discordgo.WebhookParams{Content: content,
		Flags: discordgo.MessageFlagsEphemeral, Files: []*discordgo.File{f}, AllowedMentions: &discordgo.MessageAllowedMentions{}})
	return err
}

// Modal answers with a form.
func (in *Interaction) Modal(customID, title string, inputs ...discordgo.TextInput) error {
	rows := make([]discordgo.MessageComponent, len(inputs))
	for i := range inputs {
		rows[i] = discordgo.ActionsRow{Components: []discordgo.MessageComponent{inputs[i]}}
	}
	return in.callback(discordgo.InteractionResponseModal,
		&discordgo.InteractionResponseData{CustomID: customID, Title: title, Components: rows})
}

// command is the slash command's name for an application command or its
// autocomplete, "" for a button or a form.
func (in *Interaction) command() string {
	if in.Type != discordgo.InteractionApplicationCommand && in.Type != discordgo.InteractionApplicationCommandAutocomplete {
		return ""
	}
	return in.ApplicationCommandData().Name
}

// Subcommand is the invoked subcommand's name ("" for a plain command), with
// a group's name before it: "alias add".
func (in *Interaction) Subcommand() string {
	opts := in.ApplicationCommandData().Options
	if len(opts) == 0 {
		return ""
	}
	switch opts[0].Type {
	case discordgo.ApplicationCommandOptionSubCommand:
		return opts[0].Name
	case discordgo.ApplicationCommandOptionSubCommandGroup:
		if len(opts[0].Options) > 0 {
			return opts[0].Name + " " + opts[0].Options[0].Name
		}
		return opts[0].Name
	}
	return ""
}

// Options are the leaf options of the invoked (sub)command by name.
func (in *Interaction) Options() map[string]*discordgo.ApplicationCommandInteractionDataOption {
	out := map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	var walk func([]*discordgo.ApplicationCommandInteractionDataOption)
	walk = func(opts []*discordgo.ApplicationCommandInteractionDataOption) {
		for _, o := range opts {
			switch o.Type {
			case discordgo.ApplicationCommandOptionSubCommand, discordgo.ApplicationCommandOptionSubCommandGroup:
				walk(o.Options)
			default:
				out[o.Name] = o
			}
		}
	}
	walk(in.ApplicationCommandData().Options)
	return out
}

// String returns a string option, "" when absent.
func (in *Interaction) String(name string) string {
	if o, ok := in.Options()[name]; ok {
		if s, ok := o.Value.(string); ok {
			return s
		}
	}
	return ""
}

// Focused is the option being autocompleted and what the user typed so far.
func (in *Interaction) Focused() (name, value string) {
	for n, o := range in.Options() {
		if o.Focused {
			v, _ := o.Value.(string)
			return n, v
		}
	}
	return "", ""
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
