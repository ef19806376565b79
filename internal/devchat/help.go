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
	sb.WriteString("  /reply TEXT answers the last personality message here (no mention needed)\n")
	sb.WriteString("  /attach PATH [TEXT] posts a local image with your message (to the personality you last talked to here, unless TEXT mentions one)\n")
	sb.WriteString("  /press LABEL presses a button of the last message shown with buttons, e.g. /press Next page\n")
	sb.WriteString("  /channel NAME moves to another channel of the server (/channel random), /channel back to " + ChatChannel + "\n")
	sb.WriteString("  /link [#CHANNEL] [N] prints the link of the N-th last message there (the last here), for a personality to follow; @you, @rosa, @&regulars and #random are written as Discord mentions\n")
	sb.WriteString("  /dm talks to the bot in a DM; quit stops\n")
	if c.opts.Revoke != nil {
		sb.WriteString("  !revoke openrouter makes the OpenRouter stand-in refuse your stored key, to see what a refused key does\n")
	}
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
