// Package discordsplit cuts a reply that is too long for one Discord message
// into messages that each render as the whole would have.
//
// Discord refuses message content over 2000 characters ("content: Message
// contents (up to 2000 characters)",
// https://discord.com/developers/docs/resources/message#create-message), and
// counts them as Python 3 counts a string: in Unicode code points, not
// UTF-16 units or bytes (Discord staff on
// https://github.com/discord/discord-api-docs/issues/1315: "Our API uses
// Python 3, so the API calculates length based on the number of codepoints").
// Len counts the same way.
//
// The rules, in order:
//
//   - Every part is at most limit code points, counting the fence lines the
//     split adds.
//   - A fenced code block (``` or ~~~, three or more, with or without an info
//     string, as in CommonMark https://spec.commonmark.org/0.31.2/#fenced-code-blocks)
//     that a cut falls inside is closed at the end of the part with its own
//     fence and reopened at the start of the next with the same fence and
//     info string, so the language and the highlighting survive. A block the
//     text leaves unclosed is closed at the end of the last part. Fences may
//     be indented (as inside list items).
//   - A code block that fits in one message but not in what is left of the
//     current one starts the next message instead of being cut.
//   - Inside code nothing is trimmed: indentation, blank lines and trailing
//     spaces stay, and a cut falls at a line boundary (after a blank line when
//     there is one) unless one line is longer than a message.
//   - Outside code a cut prefers a paragraph break (a blank line, or the edge
//     of a code block), then a line break, then the end of a sentence, then a
//     space, then any other place a line may wrap (UAX #14, as between CJK
//     ideographs), and only then any place between two user-perceived
//     characters; only the whitespace at the cut is dropped. A cut that would
//     leave a part less than half full moves to the next rule down.
//   - A cut never splits a grapheme cluster (UAX #29: an emoji ZWJ sequence,
//     a flag, a letter and its combining marks), a Discord markup token
//     (<@id>, <@!id>, <@&id>, <#id>, </cmd:id>, <:name:id>, <a:name:id>,
//     <t:123:R>, <id:browse>), a URL, a [markdown](link) or an `inline code`
//     span, unless that one thing is longer than a whole message; then it is
//     cut between grapheme clusters, and a grapheme cluster longer than a
//     message between code points.
//
// Joining the parts, less the fence lines added, gives back the text less
// the whitespace dropped at cuts outside code: Parts reports each part's
// byte range in the text so callers and tests can check it. Only when a
// block's fence lines would take more than a quarter of a message (an
// absurd info string, or a tiny limit) is it cut without repair, and a part
// that is then only whitespace, which Discord would refuse, is dropped.
package discordsplit

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Limit is the most code points Discord takes in one message's content
// (bots and webhooks included; the 4000 of Nitro users never applies to them).
const Limit = 2000

// Len is the length Discord measures a message content by: code points.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Part is one message of a split text.
type Part struct {
	// Text is the message content: Reopen + text[Start:End] + Close.
	Text string
	// Start and End are the byte range of the original text in this part.
	Start, End int
	// Reopen is the fence line (with its newline) that reopens a code block
	// the previous part closed; empty when the part does not start in code.
	Reopen string
	// Close is what closes a code block this part ends inside: the fence,
	// after a newline unless the content already ends with one; empty when
	// the part does not end in code.
	Close string
}

// Split returns the messages for text, at most limit code points each (use
// Limit), following the package rules. It returns one message, possibly
// empty, when text is blank.
func Split(text string, limit int) []string {
	parts := Parts(text, limit)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.Text
	}
	return out
}

// Parts is Split with each part's place in text.
func Parts(text string, limit int) []Part {
	limit = max(limit, 1)
	d := analyse(text, limit)
	b := len(text) - len(strings.TrimLeftFunc(text, unicode.IsSpace))
	end := d.end()
	if b >= end {
		return []Part{{Start: b, End: b}}
	}
	var out []Part
	// Discord refuses a message of only whitespace. Only inside a block too
	// big to repair can a part be that; it is dropped.
	keep := func(p Part) {
		if strings.TrimSpace(p.Text) != "" {
			out = append(out, p)
		}
	}
	next := 0 // first candidate not yet passed
	for {
		if d.cost(b, end) <= limit {
			keep(d.part(b, end))
			if len(out) == 0 {
				out = append(out, Part{Start: b, End: b})
			}
			return out
		}
		for next < len(d.cands) && d.cands[next].end <= b {
			next++
		}
		c, ok := d.choose(b, next, limit)
		if !ok {
			// Unreachable while analyse offers a candidate at every code
			// point; cut after one code point so the loop always ends.
			_, size := utf8.DecodeRuneInString(text[b:])
			c = cand{end: b + size, start: b + size}
		}
		keep(d.part(b, c.end))
		b = c.start
	}
}

// quality ranks cut positions, best first.
type quality int

const (
	qParagraph quality = iota
	qLine
	qSentence
	qSpace
	qWord     // a UAX #14 line-break opportunity without a space
	qGrapheme // between two grapheme clusters
	qToken    // inside a protected token or a fence line
	qCodePoint
	qualities
)

// cand is a possible cut: the part ends at end and the next starts at start
// (start > end only across whitespace dropped outside code).
type cand struct {
	end, start int
	q          quality
}

type fence struct {
	open      int // the opening line's first byte
	bodyStart int // after the opening line's newline
	bodyEnd   int // the closing line's first byte; len(text) when unclosed
	end       int // the closing line's end, before its newline; len(text) when unclosed
	reopen    string
	close     string
	// repair is false for a fence whose lines would not leave room for
	// content (an absurd info string, or a tiny limit): its cuts add nothing.
	repair bool
}

type doc struct {
	text   string
	fences []fence
	// runes[i] is the number of code points in text[:i], for i at a rune start.
	runes []int
	// eol[i] is the offset of the first newline at or after i, or len(text).
	eol []int
	// grapheme, sentence and wrap mark the offsets where a grapheme
	// cluster, a sentence (UAX #29) and a line-break opportunity (UAX #14)
	// end; inner marks code point boundaries inside a cluster; token marks
	// offsets strictly inside a protected token.
	grapheme, sentence, wrap, inner, token []bool
	cands                                  []cand
}

func (d *doc) end() int {
	if f := d.fenceAt(len(d.text)); f != nil {
		return len(d.text) // whitespace inside an unclosed block is code
	}
	return len(strings.TrimRightFunc(d.text, unicode.IsSpace))
}

// fenceAt is the repairable fence whose body holds position p, where a part
// ending at p must close it and one starting at p must reopen it.
func (d *doc) fenceAt(p int) *fence {
	// The last fence opening before p is the only one that can hold it.
	i := sort.Search(len(d.fences), func(i int) bool { return d.fences[i].open >= p }) - 1
	if i < 0 {
		return nil
	}
	if f := &d.fences[i]; f.repair && f.bodyStart <= p && p <= f.bodyEnd {
		return f
	}
	return nil
}

// fenceOpeningAt is the fence whose opening line starts at p, if any.
func (d *doc) fenceOpeningAt(p int) *fence {
	i := sort.Search(len(d.fences), func(i int) bool { return d.fences[i].open >= p })
	if i < len(d.fences) && d.fences[i].open == p {
		return &d.fences[i]
	}
	return nil
}

func (d *doc) closeFor(e int) string {
	f := d.fenceAt(e)
	if f == nil {
		return ""
	}
	if strings.HasSuffix(d.text[:e], "\n") {
		return f.close
	}
	return "\n" + f.close
}

func (d *doc) reopenFor(b int) string {
	if f := d.fenceAt(b); f != nil {
		return f.reopen
	}
	return ""
}

// cost is the length of the part holding text[b:e], fence lines included.
func (d *doc) cost(b, e int) int {
	return Len(d.reopenFor(b)) + d.runes[e] - d.runes[b] + Len(d.closeFor(e))
}

func (d *doc) part(b, e int) Part {
	p := Part{Start: b, End: e, Reopen: d.reopenFor(b), Close: d.closeFor(e)}
	p.Text = p.Reopen + d.text[b:e] + p.Close
	return p
}

// choose picks the cut for a part starting at b. A code block that does not
// fit in this part but fits in a message of its own moves whole to the next
// part. Otherwise the cut is the latest of the best quality that fills at
// least half the part; failing that, the latest that splits nothing, then
// the latest that splits a token, then any.
func (d *doc) choose(b, from, limit int) (cand, bool) {
	var best [qualities]int
	for q := range best {
		best[q] = -1
	}
	beforeBlock := -1
	for i := from; i < len(d.cands); i++ {
		c := d.cands[i]
		if d.runes[c.end]-d.runes[b] > limit {
			break
		}
		if c.end <= b || d.cost(b, c.end) > limit {
			continue
		}
		best[c.q] = i
		if f := d.fenceOpeningAt(c.start); f != nil && d.cost(b, f.end) > limit && d.runes[f.end]-d.runes[f.open] <= limit {
			beforeBlock = i
		}
	}
	if beforeBlock >= 0 {
		return d.cands[beforeBlock], true
	}
	pick := -1
	for q := qParagraph; q < qualities; q++ {
		if best[q] > pick {
			pick = best[q]
		}
		if pick >= 0 && (q >= qGrapheme || 2*d.cost(b, d.cands[pick].end) >= limit) {
			return d.cands[pick], true
		}
	}
	return cand{}, false
}

func analyse(text string, limit int) *doc {
	d := &doc{text: text, fences: parseFences(text, limit), runes: make([]int, len(text)+1)}
	n := 0
	for i := range text {
		d.runes[i] = n
		n++
	}
	d.runes[len(text)] = n
	d.eol = make([]int, len(text)+1)
	d.eol[len(text)] = len(text)
	for i := len(text) - 1; i >= 0; i-- {
		if text[i] == '\n' {
			d.eol[i] = i
		} else {
			d.eol[i] = d.eol[i+1]
		}
	}

	// Grapheme, sentence and line-break boundaries, from one pass of uniseg
	// over the whole text so every rule sees its context.
	d.grapheme = make([]bool, len(text)+1)
	d.sentence = make([]bool, len(text)+1)
	d.wrap = make([]bool, len(text)+1)
	d.inner = make([]bool, len(text)+1)
	d.grapheme[0] = true
	state, pos, rest := -1, 0, text
	for len(rest) > 0 {
		var cluster string
		var bounds int
		cluster, rest, bounds, state = uniseg.StepString(rest, state)
		for i := range cluster {
			if i > 0 {
				d.inner[pos+i] = true
			}
		}
		pos += len(cluster)
		d.grapheme[pos] = true
		d.sentence[pos] = bounds&uniseg.MaskSentence != 0
		d.wrap[pos] = bounds&uniseg.MaskLine != uniseg.LineDontBreak
	}
	d.token = protectedTokens(text, d.fences)

	// Candidates are generated in text order, block by block.
	prose := 0
	for i := range d.fences {
		f := &d.fences[i]
		d.proseCandidates(prose, f.open)
		d.codeCandidates(f)
		prose = f.end
	}
	d.proseCandidates(prose, len(text))
	return d
}

func (d *doc) add(end, start int, q quality) {
	d.cands = append(d.cands, cand{end: end, start: start, q: q})
}

// codeCandidates offers cuts inside one fenced block: line starts in its
// body, then places inside a line too long for a message. The fence lines
// themselves, and a cut right after the opening or right before the closing
// line (an empty block), are last resorts.
func (d *doc) codeCandidates(f *fence) {
	text := d.text
	for p := f.open + 1; p < f.end; p++ {
		var q quality
		switch {
		case d.inner[p]:
			q = qCodePoint
		case !d.grapheme[p]:
			continue
		case p <= f.bodyStart || p >= f.bodyEnd:
			q = qToken
		case text[p-1] == '\n':
			switch {
			case isBlank(d.restOfLine(p)):
				q = qWord
			case isBlank(d.restOfLine(lineStart(text, p-1))):
				q = qParagraph
			default:
				q = qLine
			}
		case (text[p] == '`' || text[p] == '~') && closes(f, d.restOfLine(p)):
			// The rest of this line would read as the closing fence.
			q = qToken
		case isHSpace(text[p-1]) && !isHSpace(text[p]):
			q = qSpace
		case d.wrap[p]:
			q = qWord
		default:
			q = qGrapheme
		}
		d.add(p, p, q)
	}
}

// proseCandidates offers cuts in text[from:to], which holds no code block,
// cluster by cluster.
func (d *doc) proseCandidates(from, to int) {
	text := d.text
	p := from
	for p < to {
		if c := d.clusterEnd(p, to); !isSpace(text[p:c]) {
			d.innerCandidates(p, c)
			p = c
			if p >= to || isSpace(text[p:d.clusterEnd(p, to)]) {
				continue // the run of whitespace that follows is the cut
			}
			var q quality
			switch {
			case d.token[p], d.opensAt(p):
				q = qToken
			case d.sentence[p]:
				q = qSentence
			case d.wrap[p]:
				q = qWord
			default:
				q = qGrapheme
			}
			d.add(p, p, q)
			continue
		}
		// One cut for the whole run of whitespace, which it drops.
		e := p
		for p < to {
			c := d.clusterEnd(p, to)
			if !isSpace(text[p:c]) {
				break
			}
			p = c
		}
		if e == 0 || p == len(text) {
			continue // leading or trailing whitespace of the whole text
		}
		var q quality
		switch n := strings.Count(text[e:p], "\n"); {
		case n >= 2, e == from && from > 0, p == to && to < len(text):
			q = qParagraph // a blank line, or the edge of a code block
		case n == 1:
			q = qLine
		case d.token[e], d.opensAt(p):
			q = qToken
		case d.sentence[p]:
			q = qSentence
		default:
			q = qSpace
		}
		d.add(e, p, q)
		for x := e; x < p; {
			c := d.clusterEnd(x, to)
			d.innerCandidates(x, c)
			x = c
		}
	}
}

// opensAt reports whether a part starting at p, in prose, would open a
// code block the text does not: the rest of the line reads as a fence.
func (d *doc) opensAt(p int) bool {
	return (d.text[p] == '`' || d.text[p] == '~') && opensFence(d.restOfLine(p))
}

// restOfLine is text from p to the end of its line, without the newline.
func (d *doc) restOfLine(p int) string { return d.text[p:d.eol[p]] }

// clusterEnd is the end of the grapheme cluster that starts at p.
func (d *doc) clusterEnd(p, to int) int {
	for p++; p < to && !d.grapheme[p]; p++ {
	}
	return p
}

// innerCandidates offers the code point boundaries inside the cluster
// text[p:c], for a cluster longer than a message.
func (d *doc) innerCandidates(p, c int) {
	for i := p + 1; i < c; i++ {
		if d.inner[i] {
			d.add(i, i, qCodePoint)
		}
	}
}

func isSpace(s string) bool { return strings.TrimLeftFunc(s, unicode.IsSpace) == "" }

func isHSpace(c byte) bool { return c == ' ' || c == '\t' }

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

// lineStart is the start of the line holding p.
func lineStart(text string, p int) int { return strings.LastIndexByte(text[:p], '\n') + 1 }

// lineAt is text from p to the end of its line, without the newline.
func lineAt(text string, p int) string {
	if i := strings.IndexByte(text[p:], '\n'); i >= 0 {
		return text[p : p+i]
	}
	return text[p:]
}
