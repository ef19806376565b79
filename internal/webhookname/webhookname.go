// Package webhookname makes a personality's display name acceptable to
// Discord as the username of a webhook message.
//
// Discord refuses a webhook message (400, code 50035, errors.username
// USERNAME_INVALID_CONTAINS or BASE_TYPE_BAD_LENGTH) whose username breaks its
// rules. The rules, from https://discord.com/developers/docs/resources/webhook
// (Create Webhook) and the Usernames and Nicknames section of
// https://discord.com/developers/docs/resources/user:
//   - it must not contain the substrings "clyde" or "discord", in any case;
//   - it follows the nickname rules: 1 to 80 characters (webhooks' exception
//     to 32), leading, trailing and repeated inner whitespace trimmed, some
//     zero-width and non-rendering characters refused;
//   - usernames may not be "everyone" or "here" (and, per Discord's own
//     clients, "system message"); webhook names are not documented to share
//     that rule, but an impersonation of a mention keyword is never wanted.
//
// Sanitize keeps every name recognisable rather than refusing it: a reserved
// substring gets one letter swapped for its Cyrillic look-alike ("Discord
// Helper" becomes "Discоrd Helper", with U+043E), control and invisible
// characters go, whitespace is collapsed, a reserved whole name gets " (bot)"
// appended, and a name longer than 80 characters is cut at the last whole
// user-perceived character (grapheme cluster) that fits.
package webhookname

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxLength is Discord's limit on a webhook username, in characters (Unicode
// code points, as Discord counts them).
const MaxLength = 80

// lookalikes swap one ASCII letter of each reserved substring for the
// Cyrillic letter drawn the same way, by case.
var reserved = []struct {
	word       string
	index      int // which letter of word is swapped
	lower, upp rune
}{
	{"discord", 4, 'о', 'О'}, // o → U+043E / U+041E
	{"clyde", 4, 'е', 'Е'},   // e → U+0435 / U+0415
}

// reservedNames may not be a whole name.
var reservedNames = []string{"everyone", "here", "system message"}

// Sanitize returns name made acceptable as a webhook username, or fallback
// (sanitized the same way) when nothing of name is left; "" when neither has
// anything usable, in which case the caller omits the username and Discord
// uses the webhook's own name.
func Sanitize(name, fallback string) string {
	if s := sanitize(name); s != "" {
		return s
	}
	return sanitize(fallback)
}

func sanitize(name string) string {
	rs := []rune(strings.ToValidUTF8(name, ""))
	var b strings.Builder
	space := false
	for i, r := range rs {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case invisible(r):
			continue
		case r == zwj && !(i > 0 && pictographic(rs[i-1]) && i+1 < len(rs) && pictographic(rs[i+1])):
			// A joiner outside an emoji sequence only hides a word
			// ("Disc\u200dord") from the check below.
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	s := defuse(b.String())
	if !visible(s) {
		return ""
	}
	for _, w := range reservedNames {
		if strings.EqualFold(s, w) {
			s += " (bot)"
		}
	}
	return Truncate(s, MaxLength)
}

const zwj = '\u200d'

// pictographic approximates Unicode's Extended_Pictographic, the runes a
// zero-width joiner may join into one emoji.
func pictographic(r rune) bool {
	return r >= 0x1F000 || unicode.Is(unicode.So, r) || (r >= 0x2190 && r <= 0x2BFF)
}

// visible reports whether s has a character that shows: a name of only
// joiners, variation selectors or combining marks is no name.
func visible(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) && r != zwj && !(r >= '\ufe00' && r <= '\ufe0f') && !unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

// invisible reports control characters and the zero-width and non-rendering
// formatting characters Discord limits; the zero-width joiner and variation
// selectors stay, as emoji sequences need them.
func invisible(r rune) bool {
	switch {
	case r == '\u200d', r >= '\ufe00' && r <= '\ufe0f':
		return false
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return true
	case r == '\u3164', r == '\u115f', r == '\u1160', r == '\uffa0', r == '\u2800', // Hangul fillers, braille blank
		r == '\u034f', r >= '\u180b' && r <= '\u180f', r == '\u17b4', r == '\u17b5': // other default-ignorables
		return true
	}
	return false
}

// defuse swaps a letter of every reserved substring for its look-alike.
func defuse(s string) string {
	rs := []rune(s)
	for _, w := range reserved {
		word := []rune(w.word)
		for i := 0; i+len(word) <= len(rs); i++ {
			if !foldsTo(rs[i:i+len(word)], word) {
				continue
			}
			at := i + w.index
			if unicode.IsUpper(rs[at]) {
				rs[at] = w.upp
			} else {
				rs[at] = w.lower
			}
		}
	}
	return string(rs)
}

// foldsTo reports whether rs spells the lower-case ASCII word in any case.
func foldsTo(rs, word []rune) bool {
	for j, r := range rs {
		if unicode.ToLower(r) != word[j] {
			return false
		}
	}
	return true
}

// Truncate cuts s to at most max code points, at a grapheme cluster
// boundary, and trims whitespace left at the cut.
func Truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n, end := 0, 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := utf8.RuneCountInString(g.Str())
		if n+c > max {
			break
		}
		n += c
		_, end = g.Positions()
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace)
}
