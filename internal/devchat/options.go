package devchat

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

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
		if id := strings.Trim(s, "<#>"); isDigits(id) {
			return id, nil
		} else if strings.HasPrefix(s, "#") || strings.EqualFold(id, "general") {
			_, id := channelNamed(id)
			return id, nil
		}
		return nil, fmt.Errorf("must be a channel: %s, another #name or a channel id", ChatChannel)
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

// splitArgs splits a command line into words. A quote that opens a value —
// at the start of a word or right after its name: — groups the words up to
// its closing quote (one followed by a space or the end) and is removed, so
// name:"two words" is one word, name:two words. Any other quote is kept as
// typed, so JSON arrives intact: params:{"temperature":0.8}. ok is false when
// a value's quote is never closed.
func splitArgs(s string) (args []string, ok bool) {
	rs := []rune(s)
	var out []string
	var cur []rune
	inWord := false
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, string(cur))
				cur, inWord = cur[:0], false
			}
		case (r == '"' || r == '“') && opensValue(cur, inWord):
			// Apostrophes are not quotes: "that's" is a word.
			end := closingQuote(rs, i)
			if end < 0 {
				if slices.Contains(rs[i+1:], closerOf(r)) {
					cur, inWord = append(cur, r), true // a quote inside JSON
					continue
				}
				return nil, false
			}
			cur, inWord = append(cur, rs[i+1:end]...), true
			i = end
		default:
			cur, inWord = append(cur, r), true
		}
	}
	if inWord {
		out = append(out, string(cur))
	}
	return out, true
}

// opensValue: a quote here starts a word or the value after "name:".
func opensValue(cur []rune, inWord bool) bool {
	if !inWord {
		return true
	}
	colon := slices.Index(cur, ':')
	return colon >= 0 && colon == len(cur)-1
}

func closerOf(open rune) rune {
	if open == '“' {
		return '”'
	}
	return '"'
}

// closingQuote is the index of the quote closing the one at open: the next
// matching quote followed by a space or the end of the line, or -1.
func closingQuote(rs []rune, open int) int {
	closer := closerOf(rs[open])
	for j := open + 1; j < len(rs); j++ {
		if rs[j] == closer && (j+1 == len(rs) || rs[j+1] == ' ' || rs[j+1] == '\t') {
			return j
		}
	}
	return -1
}
