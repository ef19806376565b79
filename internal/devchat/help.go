package devchat

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// help is the chat's own help, or one command's options with "/help NAME".
func (c *Chat) help(args []string) string {
	var sb strings.Builder
	if len(args) > 0 {
		name := strings.TrimPrefix(strings.ToLower(args[0]), "/")
		if h, ok := c.chatHelp(name); ok {
			return h
		}
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
	fmt.Fprintf(&sb, "You are %s (@%s) in an offline Discord; the bot and the workflows are real.\n", ChatGlobalName, ChatUsername)
	fmt.Fprintf(&sb, "  Type a message to post it in the channel; mention a personality to talk to it: %s\n", c.opts.Example)
	for _, h := range chatHelps {
		fmt.Fprintf(&sb, "  /%s %s\n", h.usage, h.short)
	}
	sb.WriteString("  quit stops\n")
	if c.opts.Revoke != nil {
		sb.WriteString("  !revoke openrouter makes the OpenRouter stand-in refuse your stored key, to see what a refused key does\n")
	}
	sb.WriteString("Slash commands (options as name:value; quote values with spaces: name:\"two words\"):\n")
	for _, name := range sortedNames(c.defs) {
		for _, p := range commandPaths(c.defs[name]) {
			fmt.Fprintf(&sb, "  /%s — %s\n", p.path, p.desc)
		}
	}
	sb.WriteString("/help NAME shows a command's options, e.g. /help wallet or /help attach")
	return sb.String()
}

// chatHelp is one of the chat's own commands, which the
// chat handles itself rather than the bot: what to type, a line for the
// overview and what /help NAME adds.
type chatHelp struct {
	name, usage, short, more string
}

// chatHelps are the chat's own commands, in the overview's order.
var chatHelps = []chatHelp{
	{"reply", "reply TEXT", "answers the last personality message here (no mention needed)",
		"The message is a Discord reply to the last message a personality posted in this channel, so that personality answers."},
	{"attach", "attach PATH [TEXT]", "posts a local image with your message",
		"Quote a path with spaces (/attach \"~/my pic.png\" @demo hi); ~/ is your home folder. In a channel, TEXT without a mention makes the post a Discord reply to the last personality message here, so that personality sees the image; with a mention, the one mentioned does. In your DMs the personality you talked to answers."},
	{"press", "press LABEL", "presses a button of the latest message shown with buttons, e.g. /press Next page",
		"Only the buttons of the latest message with buttons can be pressed, as on Discord only the visible ones can; /press alone lists their labels."},
	{"prompt", "prompt", "shows what the model was given in the last chat request (system prompt and messages)",
		"Prints the last chat request the OpenRouter stand-in received: its model, system prompt and messages, images summarised, never a key. Use it to see whether a memory or an earlier turn reached the model."},
	{"channel", "channel NAME", "moves to another channel of the server (/channel random), /channel back to " + ChatChannel,
		"Any name is a channel; its id follows from the name, so a restarted tzurot dev finds the same history there."},
	{"link", "link [#CHANNEL] [N]", "prints the link of the N-th last message there (the last here), for a personality to follow",
		"@you, @rosa, @&regulars and #random in what you type are written as Discord mentions."},
	{"dm", "dm", "talks to the bot in a DM", "/channel goes back to " + ChatChannel + "."},
	{"help", "help [NAME]", "lists the commands, or shows one's options", ""},
}

// chatHelp is /help NAME for one of the chat's own commands.
func (c *Chat) chatHelp(name string) (string, bool) {
	for _, h := range chatHelps {
		if h.name == name {
			return strings.TrimSpace("/" + h.usage + " — " + h.short + "\n    " + h.more), true
		}
	}
	return "", false
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

func (c *Chat) commandList() string {
	var names []string
	for _, h := range chatHelps {
		names = append(names, h.name)
	}
	for n := range c.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i := range names {
		names[i] = "/" + names[i]
	}
	return strings.Join(names, ", ")
}
