package access

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
)

// Reserved are words no name, alias or display name may be or begin with,
// and that never mention a personality: Discord's mention keywords @everyone
// and @here, which Discord itself turns into pings
// (https://discord.com/developers/docs/reference#message-formatting) and
// which Discord refuses as user names
// (https://discord.com/developers/docs/resources/user#usernames-and-nicknames).
var Reserved = []string{"everyone", "here"}

// IsReserved reports whether term is a reserved word or begins with one as a
// whole word ("here", "Here we go"; not "heretic"), in any case.
func IsReserved(term string) bool {
	t := Normalize(term)
	for _, w := range Reserved {
		if strings.HasPrefix(t, w) && boundary(t[len(w):]) {
			return true
		}
	}
	return false
}

// Index holds every personality with its aliases, to find mentions in a
// message by the rule of choose. Build it with NewIndex from personalities
// loaded WithAliases; it is read-only and safe for concurrent use.
type Index struct {
	byID  map[uuid.UUID]*ent.Personality
	terms []indexTerm // longest first, then by text: a stable order
}

type indexTerm struct {
	text  string // lower case
	cands []candidate
}

// NewIndex indexes ps (loaded WithAliases) by name, alias and display name.
func NewIndex(ps []*ent.Personality) *Index {
	x := &Index{byID: map[uuid.UUID]*ent.Personality{}}
	texts := map[string]bool{}
	for _, p := range ps {
		x.byID[p.ID] = p
		texts[strings.ToLower(p.Name)] = true
		if p.DisplayName != nil {
			texts[strings.ToLower(strings.TrimSpace(*p.DisplayName))] = true
		}
		for _, a := range p.Edges.Aliases {
			texts[strings.ToLower(strings.TrimSpace(a.Alias))] = true
		}
	}
	byText := map[string][]candidate{}
	for _, p := range ps {
		add := func(t string, k Kind) {
			if t != "" && !IsReserved(t) {
				byText[t] = append(byText[t], candidate{p, k})
			}
		}
		add(strings.ToLower(p.Name), ByName)
		for _, a := range p.Edges.Aliases {
			add(strings.ToLower(strings.TrimSpace(a.Alias)), ByAlias)
		}
		if p.DisplayName != nil {
			add(strings.ToLower(strings.TrimSpace(*p.DisplayName)), ByDisplayName)
		}
	}
	for t, cs := range byText {
		x.terms = append(x.terms, indexTerm{text: t, cands: cs})
	}
	sort.Slice(x.terms, func(i, j int) bool {
		if len(x.terms[i].text) != len(x.terms[j].text) {
			return len(x.terms[i].text) > len(x.terms[j].text)
		}
		return x.terms[i].text < x.terms[j].text
	})
	return x
}

// ByID is the indexed personality with that id, nil when there is none.
func (x *Index) ByID(id uuid.UUID) *ent.Personality { return x.byID[id] }

// Lookup is what ref means for s among the indexed personalities, by the
// same rule as Resolve.
func (x *Index) Lookup(s Speaker, ref string) (Match, bool) {
	t := Normalize(ref)
	if t == "" || IsReserved(t) {
		return Match{}, false
	}
	if id, err := uuid.Parse(t); err == nil {
		if p := x.byID[id]; p != nil && s.CanUse(p) {
			return Match{Personality: p, Kind: ByID}, true
		}
	}
	for _, term := range x.terms {
		if term.text == t {
			return choose(s, term.cands)
		}
	}
	return Match{}, false
}

// Example is a public personality's name for a hint ("name" when none), the
// same one every time.
func (x *Index) Example() string {
	best := ""
	for _, p := range x.byID {
		if p.IsPublic && (best == "" || p.Name < best) {
			best = p.Name
		}
	}
	if best == "" {
		return "name"
	}
	return best
}

// Mentions are the personalities s mentions in content, in order, at most
// max, each once. A mention is an @ that MentionStarts accepts followed by a
// name, alias or display name (any case) that ends at a word boundary; the
// longest text naming a personality s may use wins at each @ ("@Lilith
// Sable" before "@Lilith"), and among personalities called the same, the
// rule of choose. @everyone and @here are never mentions of a personality.
func (x *Index) Mentions(s Speaker, content string, max int) []*ent.Personality {
	lower := strings.ToLower(content)
	var out []*ent.Personality
	seen := map[uuid.UUID]bool{}
	for _, at := range MentionStarts(lower) {
		if len(out) >= max {
			break
		}
		rest := lower[at+1:]
		if IsReserved(rest) {
			continue
		}
		for _, t := range x.terms {
			if !strings.HasPrefix(rest, t.text) || !mentionEnds(rest[len(t.text):]) {
				continue
			}
			m, ok := choose(s, t.cands)
			if !ok {
				continue // nothing s may use is called that: perhaps a shorter text
			}
			if !seen[m.Personality.ID] {
				seen[m.Personality.ID] = true
				out = append(out, m.Personality)
			}
			break
		}
	}
	return out
}

// Mentioned reports whether content has, at an @ MentionStarts accepts, a
// name, alias or display name of any indexed personality, whoever may use
// it. Where it is false Mentions finds nothing for any speaker, so a caller
// need not load the Speaker (a database read) to know.
func (x *Index) Mentioned(content string) bool {
	lower := strings.ToLower(content)
	for _, at := range MentionStarts(lower) {
		rest := lower[at+1:]
		if IsReserved(rest) {
			continue
		}
		for _, t := range x.terms {
			if strings.HasPrefix(rest, t.text) && mentionEnds(rest[len(t.text):]) {
				return true
			}
		}
	}
	return false
}

// boundary reports whether rest starts after the end of a word: nothing, or
// a character that is not a letter, digit, - or _.
func boundary(rest string) bool {
	if rest == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_'
}

// mentionEnds reports whether a mention may end before rest: at a word
// boundary that is not a domain going on ("@kerach.example" is a domain,
// "@kerach." ends a sentence).
func mentionEnds(rest string) bool {
	if !boundary(rest) {
		return false
	}
	if len(rest) >= 2 && rest[0] == '.' {
		r, _ := utf8.DecodeRuneInString(rest[1:])
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}
	return true
}

// urlChars is what a URL may hold: anything but white space and the
// characters RFC 3986 leaves out of URIs, which must be percent-encoded
// inside one (https://www.rfc-editor.org/rfc/rfc3986#section-2): < > " { } |
// \ ^ and `. A URL therefore ends at Discord's markdown built of them — the
// <…> that hides an embed, a ||spoiler||, `code` — and an @ right after
// ("<https://a.example>@kerach", "||https://a.example||@kerach") may begin a
// mention.
const urlChars = "[^\\s<>\"{}|\\\\^`]"

var (
	// A URL with a scheme (https://…, ftp://…, any scheme://) or one of the
	// schemes without // that carry an address (mailto:, xmpp:, …).
	schemeURL = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://` + urlChars + `*|\b(?:mailto|xmpp|sip|sips|tel|sms|im|news|magnet|geo|matrix):` + urlChars + `+`)
	// A bare domain followed by a path, port, query or fragment:
	// social.example/@kerach, www.example.com:8080/x.
	bareURL = regexp.MustCompile(`(?i)(?:^|[^\w@.\-])((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z][a-z0-9\-]*[a-z0-9](?::\d+)?[/?#]` + urlChars + `*)`)
	// Discord's own message formatting
	// (https://discord.com/developers/docs/reference#message-formatting):
	// user <@id> and <@!id>, role <@&id>, channel <#id>, slash command
	// </name:id>, custom emoji <:name:id> and <a:name:id>, timestamps
	// <t:ts> and <t:ts:style>, guild navigation <id:type>. The gateway
	// delivers a ping of a Discord user or role in these forms; none of them
	// mentions a personality, whatever it is called.
	discordToken = regexp.MustCompile(`<(?:@[!&]?\d+|#\d+|/[^\s<>:]+:\d+|a?:\w+:\d+|t:-?\d+(?::[a-zA-Z])?|id:\w+)>`)
	// A markdown masked link [text](target), as Discord renders them.
	markdownLink = regexp.MustCompile(`\[[^\[\]\n]*\]\(\s*<?[^()\s]*>?\s*\)`)
	// Code: a fenced block or an inline span, where Discord shows text as
	// typed and pings no one.
	code = regexp.MustCompile("(?s)```.*?```|``[^`]+``|`[^`\n]+`")
	// An e-mail address (RFC 5322's dot-atom local part, less |, Discord's
	// spoiler mark: "||secret||@kerach" is a spoiler, then a mention) at a
	// domain.
	email = regexp.MustCompile(`(?i)[a-z0-9!#$%&'*+/=?^_{}~\-.]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*`)
)

// mentionAfter are the characters an @ may follow and still begin a
// mention, besides the start of the message and white space: opening
// brackets and quotes, Discord's markdown (*, _, ~, |, >), and separators
// of a list.
const mentionAfter = `([{<"'“‘«*_~|>,;!?`

// MentionStarts are the byte offsets of the @ in content that may begin a
// mention. Not a mention: an @ inside a URL of any scheme (https://…/@kerach,
// mailto:…; a URL ends at white space or a character RFC 3986 excludes, see
// urlChars), a bare domain with a path (social.example/@kerach), a markdown
// link ([text](target), text and target), code (`@kerach`, fenced blocks),
// Discord's own mentions of users and roles (<@80351110224678912>,
// <@!id>, <@&id>) and other message formatting, or an e-mail address
// (jane@kerach.example); nor an @ glued to a word or to a character of an
// address (a@b, /@x, =@x).
func MentionStarts(content string) []int {
	type span struct{ from, to int }
	var skip []span
	for _, re := range []*regexp.Regexp{schemeURL, markdownLink, code, discordToken} {
		for _, m := range re.FindAllStringIndex(content, -1) {
			skip = append(skip, span{m[0], m[1]})
		}
	}
	for _, m := range bareURL.FindAllStringSubmatchIndex(content, -1) {
		skip = append(skip, span{m[2], m[3]})
	}
	for _, m := range email.FindAllStringIndex(content, -1) {
		// The local part must hold a letter or digit: "@kerach.example"
		// alone, or "*@kerach*" (markdown), is not an address.
		if at := strings.IndexByte(content[m[0]:m[1]], '@'); at > 0 && strings.IndexFunc(content[m[0]:m[0]+at], isAlnum) >= 0 {
			skip = append(skip, span{m[0], m[1]})
		}
	}
	var out []int
	for i := 0; i < len(content); i++ {
		if content[i] != '@' {
			continue
		}
		inside := false
		for _, s := range skip {
			if i >= s.from && i < s.to {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(content[:i])
			if !unicode.IsSpace(r) && !strings.ContainsRune(mentionAfter, r) {
				continue
			}
		}
		out = append(out, i)
	}
	return out
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
