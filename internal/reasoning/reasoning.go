// Package reasoning separates a model's reasoning from its visible reply.
//
// Reasoning models (DeepSeek R1, QwQ, Claude prompted to think, ...) often
// write their chain of thought into the content itself, inside tags such as
// <think>. Discord users must see only the reply, while the history keeps the
// reasoning, so the two are split here once, before anything else sees the
// text.
//
// Tags that appear inside Markdown code are part of the reply: a model that
// explains "wrap it in `<think>`" or shows an XML sample in a fenced block
// means those tags literally.
package reasoning

import (
	"bytes"
	"strings"
)

// tagNames are the wrappers models are known to use for hidden reasoning.
// Matching is by exact name so that ordinary words like <thinker> or <b> are
// never mistaken for reasoning.
var tagNames = map[string]bool{
	"think":      true,
	"thinking":   true,
	"reasoning":  true,
	"thought":    true,
	"reflection": true,
	"scratchpad": true,
	"analysis":   true,
}

// Split returns the visible reply and the reasoning removed from it.
//
// Reasoning blocks are trimmed and joined with blank lines. An opening tag
// that is never closed makes the rest of the content reasoning, because the
// model was cut off mid-thought. A closing tag with no opening tag before it
// makes everything before it reasoning, because some providers put the
// opening tag in the prompt template rather than in the output. If nothing
// visible remains, visible is "" and the caller decides what to show.
//
// Split runs in time linear in len(content), so untrusted model output
// cannot stall the caller.
func Split(content string) (visible, reasoning string) {
	var (
		out      visibleBuilder
		thoughts []string
		keepFrom int  // start of the visible text not yet copied to out
		seenOpen bool // an opening tag outside code has been seen
		seenShut bool // a closing tag outside code has been seen
	)
	remove := func(from, to int) {
		out.keep(content[keepFrom:from])
		out.seam()
		keepFrom = to
	}

	for i := 0; i < len(content); {
		if i == 0 || content[i-1] == '\n' {
			if end, ok := fencedBlock(content, i); ok {
				i = end
				continue
			}
		}
		switch content[i] {
		case '`':
			i = inlineCode(content, i)
			continue
		case '<':
			t, ok := parseTag(content, i)
			if !ok {
				break
			}
			switch {
			case t.closing && !seenOpen && !seenShut:
				thoughts = append(thoughts, content[:i])
				remove(0, t.end)
				seenShut = true
			case t.closing:
				// A stray closing tag carries no text of its own, but
				// showing it would leak the markup into Discord.
				remove(i, t.end)
				seenShut = true
			case t.selfClosing:
				remove(i, t.end)
				seenOpen = true
			default:
				seenOpen = true
				start, end, closed := findClose(content, t.end, t.name)
				thoughts = append(thoughts, content[t.end:start])
				remove(i, end)
				if !closed {
					i = len(content)
					continue
				}
			}
			i = keepFrom
			continue
		}
		i++
	}
	out.keep(content[keepFrom:])
	return strings.TrimSpace(out.String()), Join(thoughts...)
}

// Join joins the non-empty reasoning parts with blank lines, so reasoning
// found in the content can be combined with a provider's separate reasoning
// field (OpenRouter's "reasoning") without doubled or dangling separators.
func Join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n\n")
}

// findClose returns the span of the reasoning that starts at from, and the
// end of its closing tag. Code is deliberately not respected here: reasoning
// often drafts code with unbalanced backticks or fences, and letting those
// hide the real closing tag would swallow the whole reply. The first closing
// tag of the same name wins, without nesting, for the same reason: a model
// that mentions "<think>" while thinking would otherwise never be closed.
func findClose(s string, from int, name string) (start, end int, closed bool) {
	for i := from; ; i++ {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return len(s), len(s), false
		}
		i += j
		if t, ok := parseTag(s, i); ok && t.closing && t.name == name {
			return i, t.end, true
		}
	}
}

type tag struct {
	name        string // lower case
	closing     bool
	selfClosing bool
	end         int // index just past '>'
}

// parseTag recognises one of tagNames at s[i] == '<'. Attributes are allowed
// but the tag must end before the next line or '<', so prose such as
// "<thinking about it" is not turned into a tag by some unrelated '>' much
// later, and no two candidate tags are scanned over the same bytes.
func parseTag(s string, i int) (tag, bool) {
	var t tag
	j := i + 1
	if j < len(s) && s[j] == '/' {
		t.closing = true
		j++
	}
	nameStart := j
	for j < len(s) && isASCIILetter(s[j]) {
		j++
	}
	t.name = strings.ToLower(s[nameStart:j])
	if !tagNames[t.name] || j == len(s) {
		return tag{}, false
	}
	if c := s[j]; c != '>' && c != '/' && !isSpace(c) {
		return tag{}, false
	}
	var quote byte
	for ; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '\n' || c == '<':
			return tag{}, false
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			t.end = j + 1
			t.selfClosing = !t.closing && strings.HasSuffix(strings.TrimRight(s[nameStart:j], spaces), "/")
			return t, true
		}
	}
	return tag{}, false
}

// fencedBlock reports whether a fenced code block opens on the line starting
// at i and, if so, where it ends. Indentation is not limited to three spaces
// as in CommonMark because models indent fences inside list items and Discord
// still renders them as code. An unclosed fence runs to the end, as it does
// when rendered.
func fencedBlock(s string, i int) (end int, ok bool) {
	line := s[i:lineEnd(s, i)]
	body := strings.TrimLeft(line, " \t")
	n := fenceRun(body)
	if n == 0 {
		return 0, false
	}
	// A backtick fence's info string cannot contain backticks; such a line
	// is inline code (```x```) and is left to inlineCode.
	if body[0] == '`' && strings.IndexByte(body[n:], '`') >= 0 {
		return 0, false
	}
	for j := lineEnd(s, i) + 1; j < len(s); j = lineEnd(s, j) + 1 {
		l := strings.TrimLeft(s[j:lineEnd(s, j)], " \t")
		if m := fenceRun(l); m >= n && l[0] == body[0] && strings.TrimSpace(l[m:]) == "" {
			return min(lineEnd(s, j)+1, len(s)), true
		}
	}
	return len(s), true
}

// fenceRun returns the length of a run of three or more backticks or tildes
// at the start of line, or 0.
func fenceRun(line string) int {
	if line == "" || (line[0] != '`' && line[0] != '~') {
		return 0
	}
	n := 1
	for n < len(line) && line[n] == line[0] {
		n++
	}
	if n < 3 {
		return 0
	}
	return n
}

func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(s)
}

// inlineCode skips the backtick run at s[i] and, when a run of the same
// length closes it, the whole code span. The search stops at a blank line,
// as a span cannot leave its paragraph: an apostrophe-like stray backtick
// must not pair with one far away and hide the tags in between.
func inlineCode(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	for j := i + n; j < len(s); {
		switch s[j] {
		case '`':
			m := 0
			for j+m < len(s) && s[j+m] == '`' {
				m++
			}
			if m == n {
				return j + m
			}
			j += m
		case '\n':
			k := j + 1
			for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r') {
				k++
			}
			if k == len(s) || s[k] == '\n' {
				return i + n
			}
			j = k
		default:
			j++
		}
	}
	return i + n
}

// visibleBuilder assembles the reply from the text around removed blocks.
// Whitespace is tidied only where a block was cut out: code blocks and the
// model's own spacing elsewhere are the reply and must reach Discord intact
// (two blank lines between Python functions, for example).
//
// The whitespace around a cut (the gap) is measured as it arrives and settled
// once the next visible text does, so a long run of blocks separated only by
// whitespace is handled in linear time.
type visibleBuilder struct {
	out     []byte
	pending bool // a cut is waiting for the next visible text

	// The gap, from the last visible text to the next.
	nl        int    // newlines seen
	blank     int    // lines strictly inside the gap that held no block
	lineBlock bool   // the current line of the gap held a block
	indent    []byte // whitespace since the gap's last newline
}

// seam marks that a block was removed at the current end.
func (v *visibleBuilder) seam() {
	if !v.pending {
		v.pending = true
		v.nl, v.blank, v.indent = 0, 0, v.indent[:0]
		body := len(bytes.TrimRight(v.out, spaces))
		v.gap(v.out[body:])
		v.out = v.out[:body]
	}
	v.lineBlock = true
}

func (v *visibleBuilder) gap(ws []byte) {
	for _, c := range ws {
		if c != '\n' {
			v.indent = append(v.indent, c)
			continue
		}
		if v.nl > 0 && !v.lineBlock {
			v.blank++
		}
		v.nl++
		v.lineBlock = false
		v.indent = v.indent[:0]
	}
}

// keep appends visible text. Across a cut, a line that held only removed
// blocks disappears, blank lines the model wrote survive but at most one in a
// row, the indentation of the following line is kept, and whitespace without
// newlines becomes one space so that "a <think>…</think> b" reads "a b".
func (v *visibleBuilder) keep(s string) {
	if !v.pending {
		v.out = append(v.out, s...)
		return
	}
	rest := strings.TrimLeft(s, spaces)
	v.gap([]byte(s[:len(s)-len(rest)]))
	if rest == "" {
		return
	}
	switch {
	case v.nl > 0:
		v.out = append(v.out, "\n\n"[:min(1+v.blank, 2)]...)
		v.out = append(v.out, v.indent...)
	case len(v.indent) > 0:
		v.out = append(v.out, ' ')
	}
	v.out = append(v.out, rest...)
	v.pending = false
}

// String drops a gap still pending at the end: it would be trailing
// whitespace, which the reply never keeps.
func (v *visibleBuilder) String() string { return string(v.out) }

const spaces = " \t\r\n\f\v"

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool { return strings.IndexByte(spaces, c) >= 0 }
