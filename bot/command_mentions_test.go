package bot_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/bot"
)

// commandMention is "/name" at the start of a string or after a space, a
// quote or a bracket, with the words after it: "/wallet set provider:x".
// A path ("/api/v1", "/chat/completions") continues with a slash, a dot or
// a dash and is no mention; nor is a string without a space, which is a key
// suffix ("/dm", "/post"), not a sentence.
var commandMention = regexp.MustCompile(`(?:^|[\s(“"'])/([a-z]+)((?: [a-z_]+(?::\S*)?)*)(?:$|[^/.\w-])`)

// TestMessagesNameRealCommands reads every string literal of the packages
// whose words reach users (bot replies, workflow notices, activity errors)
// and checks that each slash command it names is registered, with the
// subcommand and the option names it gives: a message must never send a user
// to a command or option that does not exist.
func TestMessagesNameRealCommands(t *testing.T) {
	cmds := map[string]*discordgo.ApplicationCommand{}
	for _, c := range bot.New(bot.Deps{}).Commands() {
		cmds[c.Name] = c
	}
	var checked int
	for _, dir := range []string{".", "../workflows", "../activities", "../internal/access", "../internal/provider", "../internal/store"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !strings.Contains(s, " ") {
					return true
				}
				for _, m := range commandMention.FindAllStringSubmatch(s, -1) {
					checked++
					if err := mentionExists(cmds, m[1], strings.Fields(m[2])); err != "" {
						t.Errorf("%s: %q names %s", fset.Position(lit.Pos()), s, err)
					}
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("found only %d command mentions: the scan is broken", checked)
	}
}

// mentionExists is "" when /name followed by words is a registered command:
// every option:value names an option of what it follows, and a word between
// a command with subcommands and an option must be one of them; a mention
// that gives any option gives every required one, so it can be typed as
// shown. Other words are the sentence going on ("/wallet set again").
func mentionExists(cmds map[string]*discordgo.ApplicationCommand, name string, words []string) string {
	c, ok := cmds[name]
	if !ok {
		return "/" + name + ", which is not a registered command"
	}
	opts, path := c.Options, "/"+name
	named := map[string]bool{}
words:
	for i, w := range words {
		opt, _, isOption := strings.Cut(w, ":")
		var sub *discordgo.ApplicationCommandOption
		for _, o := range opts {
			if o.Name == opt {
				sub = o
			}
		}
		hasSubs := len(opts) > 0 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup)
		switch {
		case isOption && (sub == nil || hasSubs):
			return path + " " + w + ", but " + path + " has no option " + opt
		case isOption:
			named[opt] = true
			continue
		case hasSubs && sub == nil && strings.Contains(strings.Join(words[i:], " "), ":"):
			return path + " " + w + ", but " + path + " has no subcommand " + w
		case sub == nil:
			break words // the sentence goes on
		}
		opts, path = sub.Options, path+" "+w
	}
	for _, o := range opts {
		if len(named) > 0 && o.Required && !named[o.Name] {
			return path + " without its required option " + o.Name
		}
	}
	return ""
}
