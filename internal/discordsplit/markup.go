package discordsplit

import (
	"regexp"
	"strings"
	"unicode"
)

// parseFences finds the fenced code blocks of text, in order. A fence is a
// line of three or more backticks or tildes after any indentation, then an
// info string (which, after backticks, may hold no backtick); the block ends
// at a line of the same character, at least as many, and nothing else, or
// at the end of the text (CommonMark 0.31.2 §4.5; the indentation is any
// whitespace, not at most three spaces, so fences inside list items count
// and a part that starts after trimmed whitespace reads the same).
func parseFences(text string, limit int) []fence {
	var out []fence
	var cur *fence
	var char byte
	var n int
	for p := 0; p < len(text); {
		line := lineAt(text, p)
		next := p + len(line) + 1
		switch {
		case cur == nil:
			if c, m, ok := fenceOpening(line); ok {
				cur = &fence{open: p, bodyStart: min(next, len(text))}
				char, n = c, m
				cur.reopen = strings.TrimSpace(line) + "\n"
				cur.close = strings.Repeat(string(c), m)
			}
		case closesFence(line, char, n):
			cur.bodyEnd, cur.end = p, p+len(strings.TrimSuffix(line, "\r"))
			out = append(out, *cur)
			cur = nil
		}
		p = next
	}
	if cur != nil {
		cur.bodyEnd, cur.end = len(text), len(text)
		out = append(out, *cur)
	}
	for i := range out {
		f := &out[i]
		// Room for the reopening line, a newline and the closing fence must
		// leave three quarters of a message for the code itself.
		f.repair = 4*(Len(f.reopen)+1+Len(f.close)) <= limit
	}
	return out
}

// fenceOpening reports whether line opens a fenced block, with its
// character and length.
func fenceOpening(line string) (byte, int, bool) {
	t := strings.TrimLeftFunc(line, unicode.IsSpace)
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return 0, 0, false
	}
	c := t[0]
	n := len(t) - len(strings.TrimLeft(t, string(c)))
	if n < 3 || (c == '`' && strings.ContainsRune(t[n:], '`')) {
		return 0, 0, false
	}
	return c, n, true
}

func opensFence(line string) bool {
	_, _, ok := fenceOpening(line)
	return ok
}

// closesFence reports whether line closes a block opened by n of char.
func closesFence(line string, char byte, n int) bool {
	t := strings.TrimLeftFunc(line, unicode.IsSpace)
	m := len(t) - len(strings.TrimLeft(t, string(char)))
	return m >= n && strings.TrimSpace(t[m:]) == ""
}

func closes(f *fence, line string) bool {
	return closesFence(line, f.close[0], len(f.close))
}

// markup matches what a cut must not fall inside, outside code: Discord's
// markup tokens (https://discord.com/developers/docs/reference#message-formatting),
// markdown links, and URLs with or without the <> that suppress embeds.
var markup = regexp.MustCompile(`<(?:@[!&]?\d+|#\d+|/[^\s<>:/]+(?: [^\s<>:/]+){0,2}:\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFsSR])?|id:[\w-]+)>` +
	`|\[[^\[\]\n]*\]\(<?[^\s()<>]+>?(?:\s+"[^"\n]*")?\)` +
	`|<[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>]+>` +
	`|[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>]+`)

// protectedTokens marks, for each byte offset, whether it lies strictly
// inside a markup token or an inline code span outside the code blocks.
func protectedTokens(text string, fences []fence) []bool {
	in := make([]bool, len(text)+1)
	mark := func(a, b int) {
		for i := a + 1; i < b; i++ {
			in[i] = true
		}
	}
	prose := func(from, to int) {
		seg := text[from:to]
		for _, m := range markup.FindAllStringIndex(seg, -1) {
			mark(from+m[0], from+m[1])
		}
		for p := 0; p < len(seg); {
			line := lineAt(seg, p)
			for _, s := range codeSpans(line) {
				mark(from+p+s[0], from+p+s[1])
			}
			p += len(line) + 1
		}
	}
	at := 0
	for _, f := range fences {
		prose(at, f.open)
		at = f.end
	}
	prose(at, len(text))
	return in
}

// codeSpans finds the inline code spans of one line: a run of backticks up
// to the next run of exactly as many (CommonMark §6.1, kept to one line).
func codeSpans(line string) [][2]int {
	var out [][2]int
	for i := 0; i < len(line); {
		if line[i] != '`' {
			i++
			continue
		}
		n := run(line[i:])
		j := i + n
		for j < len(line) {
			if line[j] != '`' {
				j++
				continue
			}
			m := run(line[j:])
			if m == n {
				out = append(out, [2]int{i, j + m})
				break
			}
			j += m
		}
		if j >= len(line) {
			i += n // no closing run: the backticks are literal
		} else {
			i = j + n
		}
	}
	return out
}

func run(s string) int { return len(s) - len(strings.TrimLeft(s, "`")) }
