package activities

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/openrouter"
)

// MentionNames are the names of the user, channel and role mentions of one
// Discord message, by snowflake id, as the bot had them from the gateway
// event (its resolved mentions and its state cache): users by guild
// nickname, else display name, else username; channels and roles by name,
// without the # or @. An id missing from a map is left as Discord wrote it.
type MentionNames struct {
	Users    map[string]string `json:"users,omitempty"`
	Channels map[string]string `json:"channels,omitempty"`
	Roles    map[string]string `json:"roles,omitempty"`
}

// MentionLimits are how many distinct users, channels and roles of one
// message get their names (llm_configs' max_mentions_per_message,
// max_channels_per_message and max_roles_per_message, else the defaults of
// internal/limits); the mentions past them stay as Discord wrote them.
type MentionLimits struct {
	Users, Channels, Roles int
}

// mentionRE is Discord's message formatting for user (<@id>, the legacy
// nickname form <@!id>), role (<@&id>) and channel (<#id>) mentions
// (https://discord.com/developers/docs/reference#message-formatting).
var mentionRE = regexp.MustCompile(`<(@!?|@&|#)(\d+)>`)

// ReplaceMentions writes names for the mentions in content: <@id> and <@!id>
// become @name, <#id> #name and <@&id> @name, for the first max distinct
// ids of each kind in order of appearance (every occurrence of those ids)
// whose name is known. Anything else is left unchanged.
func ReplaceMentions(content string, names MentionNames, max MentionLimits) string {
	seen := map[string]bool{}
	count := map[byte]int{}
	return mentionRE.ReplaceAllStringFunc(content, func(m string) string {
		sub := mentionRE.FindStringSubmatch(m)
		kind, id := sub[1], sub[2]
		var table map[string]string
		var limit int
		var sigil string
		switch kind {
		case "#":
			table, limit, sigil = names.Channels, max.Channels, "#"
		case "@&":
			table, limit, sigil = names.Roles, max.Roles, "@"
		default:
			kind = "@"
			table, limit, sigil = names.Users, max.Users, "@"
		}
		key := kind + id
		if !seen[key] {
			if count[kind[len(kind)-1]] >= limit {
				return m
			}
			seen[key] = true
			count[kind[len(kind)-1]]++
		}
		name := cleanName(table[id])
		if name == "" {
			return m
		}
		return sigil + name
	})
}

// cleanName makes a Discord name safe to write into a line of the prompt:
// white space (newlines included) collapsed to single spaces, at most 64
// runes.
func cleanName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64])
	}
	return s
}

// EstimateTokens is a conservative token count of s for budgeting a prompt
// without the model's tokenizer (OpenRouter's models use many, and no Go
// tokenizer library is among the modules this project can use):
// one token per 3 ASCII characters — English runs near 4 per token in BPE
// tokenizers — and one per other character, since CJK text and emoji take
// one or more tokens each; plus 4 for the message's framing (role, name).
func EstimateTokens(s string) int {
	ascii, other := 0, 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			other++
		}
	}
	return (ascii+2)/3 + other + 4
}

// DefaultPromptTokens is the budget of a reply's prompt in EstimateTokens'
// units when none is given: about 9,000 real tokens of English, which
// leaves room for the reply in a 16k-token context, the smallest common
// among OpenRouter's chat models. The system prompt and the current message
// are always sent; earlier turns fill what remains, newest first.
const DefaultPromptTokens = 12_000

// speakerLine is the turn's text as the model sees it: "name: text". The
// name goes into the content because OpenRouter passes the message's name
// field as is to OpenAI's models only, and for other models prepends it
// itself as "{name}: {content}" (https://openrouter.ai/docs/api-reference/overview,
// the Message type) — some upstreams drop it. Writing it ourselves gives
// every model the same text, one that EstimateTokens can count.
func speakerLine(name, text string) string {
	if name = cleanName(name); name == "" {
		return text
	}
	return name + ": " + text
}

// nameField is the message's name field for model: OpenAI's models only,
// where OpenRouter passes it on unchanged instead of prepending it to the
// content (which speakerLine already did, so others would read the name
// twice). OpenAI accepts only names without spaces or <|\/> (its API
// answers 400 otherwise), so the name is kept to letters, digits, _ and -,
// at most 64, or left out when nothing of it is left.
func nameField(model, name string) string {
	if !strings.HasPrefix(model, "openai/") {
		return ""
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case b.Len() >= 64:
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'):
			b.WriteRune(r)
		case unicode.IsSpace(r) && b.Len() > 0:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// conversation renders the history and the current message: user turns
// named by their authors, mentions named, and the oldest turns dropped
// until the whole prompt fits budget with the system prompt (which, like
// the current message, is never dropped).
func conversation(in PromptInput, system string) []openrouter.Message {
	names := in.Mentions
	// A user who spoke in the window is known by the name they spoke with,
	// the current speaker by theirs, for mentions of them in other turns;
	// the current message's own resolved names come first.
	users := map[string]string{}
	for _, t := range in.History {
		if t.AuthorID != "" && t.Author != "" {
			users[t.AuthorID] = t.Author
		}
	}
	if in.DiscordUserID != "" && in.Username != "" {
		users[in.DiscordUserID] = in.Username
	}
	for id, n := range names.Users {
		users[id] = n
	}
	names.Users = users
	current := openrouter.Message{
		Role: "user", Content: speakerLine(in.Username, ReplaceMentions(in.Content, names, in.MentionLimits)),
		Name: nameField(in.Model, in.Username),
	}
	budget := in.TokenBudget
	if budget <= 0 {
		budget = DefaultPromptTokens
	}
	budget -= EstimateTokens(system) + EstimateTokens(current.Content)
	var kept []openrouter.Message
	for i := len(in.History) - 1; i >= 0; i-- {
		t := in.History[i]
		if t.Role != "user" && t.Role != "assistant" {
			continue
		}
		m := openrouter.Message{Role: t.Role, Content: ReplaceMentions(t.Content, names, in.MentionLimits)}
		if t.Role == "user" {
			m.Content, m.Name = speakerLine(t.Author, m.Content), nameField(in.Model, t.Author)
		}
		if budget -= EstimateTokens(m.Content); budget < 0 {
			break
		}
		kept = append(kept, m)
	}
	out := make([]openrouter.Message, 0, len(kept)+1)
	for i := len(kept) - 1; i >= 0; i-- {
		out = append(out, kept[i])
	}
	return append(out, current)
}
