// Package redact keeps API keys and tokens out of logs and user-facing text.
//
// Secrets reach logs by accident: an upstream error echoes the request
// header, a config struct is logged whole, a URL carries ?key=. Catching them
// at each call site does not scale, so this package offers one choke point:
// [NewHandler] wraps any [log/slog.Handler] and rewrites every record before it
// is written, and [String] applies the same rules to any text, such as an error
// message about to be shown to a Discord user.
//
// Detection is by shape (provider key prefixes, Discord token layout, bearer
// headers) rather than by attribute name, because the secret usually arrives
// embedded in a longer string whose key says nothing ("err", "body").
// Matches are replaced by [Mask]; the text around them is kept so logs stay
// useful for debugging.
//
// For values the program knows are secret, wrap them in [Secret] so they
// cannot be printed by mistake in the first place.
package redact

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Mask replaces every secret found. It is deliberately not shaped like any
// key so that redacting twice is harmless.
const Mask = "[REDACTED]"

// rule is one secret shape. Rules only ever replace the span of the secret,
// not their context, so "Bearer " or "xi-api-key: " survive as a hint of what
// was removed.
type rule struct {
	name string
	re   *regexp.Regexp
	// group is the submatch holding the secret; 0 means the whole match.
	// A separate group is needed when the pattern must consume context
	// (a header name, a boundary character) that has to stay visible.
	group int
	// minLen rejects candidates too short to be a credential, so prose like
	// "Bearer authentication" or "authorization: denied" survives.
	minLen int
	// hint is a literal every match contains. Most log strings contain no
	// secret at all, and a substring check is far cheaper than running the
	// regexp; empty means the rule is case-insensitive and must always run.
	hint string
	// pre, when set, is a cheap test every string with a match passes, for
	// rules whose hint cannot be a plain substring; like hint, it spares
	// the regexp on the many strings that cannot match.
	pre func(s string) bool
	// valid, when set, vets a candidate s[start:end] with what RE2 cannot
	// express (a look-ahead, a mix of character classes).
	valid func(s string, start, end int) bool
}

// Credential characters used by the value of a named header or parameter:
// anything up to the next delimiter of the surrounding syntax (JSON, query
// strings, Go's map[...] printing of http.Header).
const headerValue = `([^\s"'\[\](){}<>,;&]+)`

// rules are applied in order. Name-based rules come first because they
// mask the whole value whatever its shape; the shape-based rules then catch
// keys that appear with no telling name around them.
var rules = []rule{
	{
		// The header or parameter name proves the value is a credential even
		// when it has no recognisable prefix, e.g. ElevenLabs' legacy 32-hex
		// keys sent as xi-api-key. An optional auth scheme is kept readable.
		name: "credential header",
		re: regexp.MustCompile(`(?i)\b(?:proxy-authorization|authorization|x-goog-api-key|xi-api-key|x-api-key|api[-_]?key|access[-_]token)` +
			`["']?\s*[:=]\s*[\["']?\s*(?:(?:bearer|bot|basic|token)\s+)?` + headerValue),
		group:  1,
		minLen: 8,
	},
	{
		// A field or parameter named token (JSON "token", Go's %+v "Token:",
		// "interaction_token", "X-Auth-Token:") holds a credential whatever
		// its shape: Discord's webhook and interaction objects carry theirs
		// this way. The value stops at ':' so an empty field printed by %+v
		// does not swallow the next one whole.
		name:   "token field",
		re:     regexp.MustCompile(`(?i)token["']?\s*[:=]\s*["']?([^\s"'\[\](){}<>,;&:]+)`),
		group:  1,
		minLen: 8,
		pre:    tokenAssigned,
	},
	{
		// Bearer tokens have no common shape (opaque strings, JWTs), so the
		// scheme word is the only signal. RFC 6750 token68 characters.
		name:   "bearer token",
		re:     regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9._~+/-]+=*)`),
		group:  1,
		minLen: 16,
	},
	{
		// Discord's "Authorization: Bot <token>" scheme, for tokens that do
		// not fit the usual three-segment layout below. Requiring a dot keeps
		// ordinary sentences starting with "Bot" intact.
		name:  "discord bot authorization",
		re:    regexp.MustCompile(`(?i)\bbot\s+([A-Za-z0-9_-]{20,}\.[A-Za-z0-9._-]+)`),
		group: 1,
	},
	{
		// Discord webhook URLs carry the webhook's token in the path; so do
		// interaction follow-ups, with the interaction token:
		// /webhooks/{webhook.id|application.id}/{token}[/messages/{id}][?wait=true]
		// (https://discord.com/developers/docs/resources/webhook#execute-webhook,
		// https://discord.com/developers/docs/interactions/receiving-and-responding#endpoints).
		// Any host (discord.com, discordapp.com, canary./ptb., a
		// DISCORD_API_BASE stand-in), with or without /api/v{n}, with the
		// slashes plain, percent-encoded or JSON-escaped. The token runs to
		// the next URL delimiter, whatever its length.
		name:  "discord webhook url",
		re:    regexp.MustCompile(discordPathSep + `webhooks` + discordPathSep + `[0-9]{1,21}` + discordPathSep + discordPathToken),
		group: 1,
		hint:  "webhooks",
	},
	{
		// The interaction callback, /interactions/{interaction.id}/{token}/callback.
		name:  "discord interaction url",
		re:    regexp.MustCompile(discordPathSep + `interactions` + discordPathSep + `[0-9]{1,21}` + discordPathSep + discordPathToken),
		group: 1,
		hint:  "interactions",
	},
	{
		// An interaction token on its own (an Interaction printed whole, a
		// workflow input): Discord's are unpadded base64url of
		// "interaction:<id>:<random>", so they all begin with the base64 of
		// "interaction:".
		name: "discord interaction token",
		re:   regexp.MustCompile(`aW50ZXJhY3Rpb246[A-Za-z0-9_-]{16,}=*`),
		hint: "aW50ZXJhY3Rpb246",
	},
	{
		// A webhook token on its own (a discordgo.Webhook printed with %v):
		// exactly 68 base64url characters. Requiring upper case, lower case
		// and a digit, and a whole run of exactly that length, keeps
		// identifiers and hex digests of other lengths readable.
		name:  "discord webhook token",
		re:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])([A-Za-z0-9_-]{68})`),
		group: 1,
		pre:   hasRunOf68,
		valid: func(s string, start, end int) bool {
			return (end == len(s) || !isBase64URL(s[end])) && mixedCase(s[start:end])
		},
	},
	{
		// OpenRouter: sk-or-v1- + 64 hex. Listed on its own because the
		// dashes in the prefix defeat the naive sk-[A-Za-z0-9]{20,} pattern.
		name: "openrouter key",
		re:   regexp.MustCompile(`sk-or-v1-[0-9A-Za-z]{20,}`),
		hint: "sk-or-v1-",
	},
	{
		// Anthropic: sk-ant-api03-... with dashes and underscores in the body.
		name: "anthropic key",
		re:   regexp.MustCompile(`sk-ant-[A-Za-z0-9_-]{20,}`),
		hint: "sk-ant-",
	},
	{
		// OpenAI (sk-..., sk-proj-...), ElevenLabs (sk_ + 48 hex) and any other
		// provider using the sk prefix. The leading boundary keeps words like
		// "task-..." from matching mid-word; the 20-character floor keeps
		// "sk-learn" and similar names.
		name:  "sk key",
		re:    regexp.MustCompile(`(?:^|[^A-Za-z0-9])(sk[-_][A-Za-z0-9_-]{20,})`),
		group: 1,
		hint:  "sk",
	},
	{
		// Google API keys: AIza + 35 characters, often in ?key= query strings.
		name: "google api key",
		re:   regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`),
		hint: "AIza",
	},
	{
		// JWTs: header and payload are base64 JSON objects, so both start with
		// eyJ ("{"). Used as bearer tokens, but also logged bare.
		name: "jwt",
		re:   regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+`),
		hint: "eyJ",
	},
	{
		// Discord bot tokens: base64(user id) . base64(timestamp) . HMAC.
		// A snowflake id is 17-20 ASCII digits, so its base64 is 23-28
		// characters starting with M, N or O (digits are 0x30-0x39). The
		// lengths are what stop version numbers and hostnames from matching;
		// the boundary stops a match starting inside a longer base64 run.
		name:  "discord token",
		re:    regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])([MNO][A-Za-z0-9_-]{22,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,})`),
		group: 1,
		hint:  ".",
	},
}

// discordPathSep is a path slash as it appears in text: plain,
// percent-encoded once or more (a URL inside a query string, inside another),
// or JSON-escaped (`\/`, `\u002f`, with their backslashes escaped again).
const discordPathSep = `(?:/|%(?:25)*2[Ff]|\\+/|\\+u002[fF])`

// discordPathToken is the token segment of a Discord path: everything up to
// the next URL delimiter. '[' is excluded so that a masked path stays as it is.
const discordPathToken = `([^/?#&\s"'<>\[\](){}\\|^` + "`" + `,;%]+)`

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// hasRunOf68 reports whether s has a run of exactly 68 base64url characters.
func hasRunOf68(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if isBase64URL(s[i]) {
			run++
			continue
		}
		if run == 68 {
			return true
		}
		run = 0
	}
	return run == 68
}

// tokenAssigned reports whether s has "token" (any case) followed, past an
// optional quote and spaces, by ':' or '=' — what the token field rule
// needs — so that lines merely counting tokens skip its regexp.
func tokenAssigned(s string) bool {
	for i := 0; i+5 <= len(s); i++ {
		if s[i]|0x20 != 't' || !strings.EqualFold(s[i:i+5], "token") {
			continue
		}
		j := i + 5
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			j++
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && (s[j] == ':' || s[j] == '=') {
			return true
		}
	}
	return false
}

// mixedCase reports whether s has an upper-case letter, a lower-case letter
// and a digit, as random base64 of this length all but surely has.
func mixedCase(s string) bool {
	var upper, lower, digit bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
		digit = digit || c >= '0' && c <= '9'
	}
	return upper && lower && digit
}

// minKeyLen stops a degenerate key (a test's "x") from blanking out every
// occurrence of a common letter in Without.
const minKeyLen = 8

// Without is String, with key also removed literally: a test key or a future
// key format may not look like any shape the rules know.
func Without(s, key string) string {
	if len(key) >= minKeyLen {
		s = strings.ReplaceAll(s, key, Mask)
	}
	return String(s)
}

// Line is Without on a provider's message made safe to show: whitespace
// folded to one line, and cut to at most max characters.
func Line(s, key string, max int) string {
	s = Without(strings.Join(strings.Fields(s), " "), key)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

// String returns s with every recognised secret replaced by [Mask]. It is safe
// to call on any text and on already-redacted text.
func String(s string) string {
	for i := range rules {
		s = rules[i].apply(s)
	}
	return s
}

func (r *rule) apply(s string) string {
	if r.hint != "" && !strings.Contains(s, r.hint) || r.pre != nil && !r.pre(s) {
		return s
	}
	matches := r.re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		start, end := m[2*r.group], m[2*r.group+1]
		if start < 0 || end-start < r.minLen || insideMask(s, start) || (r.valid != nil && !r.valid(s, start, end)) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// insideMask reports whether a candidate starts right after the "[" of an
// earlier Mask. The header rule treats "[" as an opening bracket (Go prints
// http.Header as map[Key:[value]]), so without this check a second pass would
// turn "key: [REDACTED]" into "key: [[REDACTED]]".
func insideMask(s string, start int) bool {
	return start > 0 && strings.HasPrefix(s[start-1:], Mask)
}
