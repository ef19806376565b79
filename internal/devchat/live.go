package devchat

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chzyer/readline"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// A streamed reply reaches Discord as a post and then edits of it while the
// model writes (activities.StreamWriter, about one edit a second). The chat
// shows such a message growing on a terminal, redrawn in place, and once,
// whole, in a script, so a transcript reads as before.

// settleAfter is how long a script's held messages must be unchanged to
// be printed before their line's workflows are known to have ended (a
// workflow the line started later than waitForLine looked): longer than
// a stream's edit interval (activities.DefaultEditInterval, 1.2 s) with
// room for a rate-limit wait.
const settleAfter = 3 * time.Second

// maxRedrawRows is the tallest block redrawn in place: the cursor cannot
// move above the top of the screen, and terminals have at least 24 rows.
// A message that grows taller continues in a block below.
const maxRedrawRows = 20

// mayStream reports whether m can be a streamed reply: a post in a channel
// or a DM by a webhook or the bot, not an answer to an interaction (whose
// edits are its deferred answer or a pressed button) and not ephemeral.
func mayStream(m fakediscord.Message, appID string) bool {
	return !m.Ephemeral() && (m.WebhookID == "" || m.WebhookID != appID)
}

// view is a message as the chat shows it.
type view struct {
	id, channelID string
	// label names the author, ending in a colon ("Demo:", "[#art] Demo:").
	label string
	// body is the rendered message (renderMessage, buttons); files are its
	// attachment lines (attachmentLines), which end body.
	body  string
	files []string
	// edited says the chat has shown an earlier text of it; live is mayStream.
	edited, live bool
}

// screen decides what the chat prints for each message it is shown. It
// holds no lock: the chat calls it under its own.
type screen struct {
	// terminal is set when the output is a person's terminal (ANSI cursor
	// movement works); otherwise growing messages are held until flush.
	terminal bool
	// cols is the terminal's width in columns.
	cols func() int

	// Script: the growing messages not yet printed, in order of their
	// first post, and what was printed of each (for "(edited)").
	held    []heldMessage
	printed map[string]string
	changed time.Time // when a held message last changed

	// Terminal: the blocks at the bottom of the screen, nothing printed
	// below them, that a change redraws in place (at most maxRedrawRows
	// rows); per growing message, the text on screen, its tagged label,
	// and how many blocks of it were printed (those not in tail are out of
	// a redraw's reach).
	tail   []tailBlock
	shown  map[string]string
	tagged map[string]string
	blocks map[string]int
}

// tailBlock is one block of a growing message at the bottom of the
// screen, or a note (id "") redrawn as it is.
type tailBlock struct {
	id   string
	head string // "Demo #4821:", "Demo #4821, continued:", "📎 attached to Demo #4821:"
	// base is the message's text printed above this block, which shows
	// only what follows it ("" when it shows all of it); attached is set
	// when what follows is only files.
	base, body string
	attached   bool
	rows       int
}

type heldMessage struct {
	id, channelID, label, body string
}

func newScreen(terminal bool, cols func() int) *screen {
	return &screen{terminal: terminal, cols: cols, printed: map[string]string{},
		shown: map[string]string{}, tagged: map[string]string{}, blocks: map[string]int{}}
}

// message is what to print for v, "" for nothing now.
func (s *screen) message(v view) string {
	if !v.live {
		label := v.label
		if v.edited {
			label += " (edited)"
		}
		return s.block(label, v.body)
	}
	if !s.terminal {
		s.changed = time.Now()
		for i := range s.held {
			if s.held[i].id == v.id {
				s.held[i].label, s.held[i].body = v.label, v.body
				return ""
			}
		}
		s.held = append(s.held, heldMessage{id: v.id, channelID: v.channelID, label: v.label, body: v.body})
		return ""
	}
	return s.grow(v)
}

// grow is what a terminal shows for a growing message: its first post as
// a block tagged with its id's last digits (tag), so that messages growing
// side by side (a reply continued into a second message, three replies at
// once) stay apart; a change redraws its block in place while the block
// is in tail. Out of reach, new text is printed in a block of its own
// below, saying which message it continues, new files as attached to it,
// and changed earlier text (a retry's answer, a cut that moved) whole, as
// an edit of it.
func (s *screen) grow(v view) string {
	tagged := tag(v.label, v.id)
	s.tagged[v.id] = tagged
	prev, seen := s.shown[v.id]
	s.shown[v.id] = v.body
	if i := s.lastInTail(v.id); i >= 0 && strings.HasPrefix(v.body, s.tail[i].base) {
		next := slices.Clone(s.tail[i:])
		next[0].body = v.body
		if out, ok := s.redraw(i, next); ok {
			return out
		}
	}
	switch {
	case !seen:
		return s.add(tailBlock{id: v.id, head: tagged, body: v.body})
	case prev == v.body:
		return ""
	case strings.HasPrefix(v.body, prev):
		if onlyFiles(strings.TrimPrefix(v.body, prev), v.files) {
			return s.add(tailBlock{id: v.id, head: "📎 attached to " + tagged, base: prev, body: v.body, attached: true})
		}
		return s.add(tailBlock{id: v.id, head: strings.TrimSuffix(tagged, ":") + ", continued:", base: prev, body: v.body})
	default:
		return s.add(tailBlock{id: v.id, head: strings.TrimSuffix(tagged, ":") + ", edited:", body: v.body})
	}
}

// deleted is what to print when message v, shown before, is deleted (a
// failed stream's half reply, DiscardStream): on a terminal its blocks in
// tail are redrawn away, and a note says it is gone when any of it is out
// of reach; a script drops it if held and notes it if printed.
func (s *screen) deleted(v view) string {
	if !s.terminal {
		s.held = slices.DeleteFunc(s.held, func(h heldMessage) bool { return h.id == v.id })
		if _, ok := s.printed[v.id]; !ok {
			return ""
		}
		delete(s.printed, v.id)
		return s.block(v.label, "(message deleted)")
	}
	label, growing := s.tagged[v.id]
	if !growing {
		return s.block(v.label, "(message deleted)")
	}
	delete(s.shown, v.id)
	first := slices.IndexFunc(s.tail, func(b tailBlock) bool { return b.id == v.id })
	var out string
	inTail := 0
	if first >= 0 {
		rest := slices.DeleteFunc(slices.Clone(s.tail[first:]), func(b tailBlock) bool { return b.id == v.id })
		inTail = len(s.tail) - first - len(rest)
		out, _ = s.redraw(first, rest)
	}
	if inTail < s.blocks[v.id] {
		out += s.add(tailBlock{head: label, body: "(message deleted)"})
	}
	delete(s.tagged, v.id)
	delete(s.blocks, v.id)
	return out
}

// tag is label with the last 4 digits of the message's id before its colon.
func tag(label, id string) string {
	return strings.TrimSuffix(label, ":") + " #" + id[max(0, len(id)-4):] + ":"
}

// onlyFiles reports whether added (text added to a message's end) is only
// some of its attachment lines.
func onlyFiles(added string, files []string) bool {
	lines := strings.Split(strings.TrimSpace(added), "\n")
	return strings.HasPrefix(added, "\n") && !slices.ContainsFunc(lines, func(l string) bool { return !slices.Contains(files, l) })
}

// lastInTail is the index of id's last block in tail, or -1.
func (s *screen) lastInTail(id string) int {
	for i := len(s.tail) - 1; i >= 0; i-- {
		if s.tail[i].id == id {
			return i
		}
	}
	return -1
}

// redraw replaces the blocks tail[from:] with next, in place, if next is
// no taller than a redraw may be. The cursor is at the start of the line
// below tail (readline has just cleared its prompt there).
func (s *screen) redraw(from int, next []tailBlock) (string, bool) {
	up, total := 0, 0
	for _, b := range s.tail[from:] {
		up += b.rows
	}
	var sb strings.Builder
	for i := range next {
		text := draw(next[i])
		next[i].rows = s.rows(text)
		total += next[i].rows
		sb.WriteString(text)
	}
	for _, b := range s.tail[:from] {
		total += b.rows
	}
	if total > maxRedrawRows {
		return "", false
	}
	s.tail = append(s.tail[:from], next...)
	if up == 0 {
		return sb.String(), true
	}
	return fmt.Sprintf("\x1b[%dA\r\x1b[J", up) + sb.String(), true
}

// add prints b below tail and keeps it there, leaving out of tail the
// blocks above that a redraw could no longer reach.
func (s *screen) add(b tailBlock) string {
	out := draw(b)
	b.rows = s.rows(out)
	if b.id != "" {
		s.blocks[b.id]++
	}
	s.tail = append(s.tail, b)
	total := 0
	for _, t := range s.tail {
		total += t.rows
	}
	for len(s.tail) > 0 && total > maxRedrawRows {
		total -= s.tail[0].rows
		s.tail = s.tail[1:]
	}
	return out
}

// draw is the printed block of b (compose).
func draw(b tailBlock) string {
	switch {
	case b.base == "":
		return compose(b.head, b.body)
	case b.attached:
		return compose(b.head, strings.TrimLeft(strings.TrimPrefix(b.body, b.base), "\n"))
	default:
		return compose(b.head, "…"+strings.TrimPrefix(b.body, b.base))
	}
}

// block is one printed block (compose) that shows no growing message.
func (s *screen) block(label, text string) string {
	s.other()
	return compose(label, text)
}

// compose is one printed block: the label, then the text with its further
// lines indented, ending in a line break.
func compose(label, text string) string {
	return label + " " + strings.ReplaceAll(text, "\n", "\n    ") + "\n"
}

// other notes a block printed by the chat itself, or a line the user
// typed: the blocks above it are out of a redraw's reach.
func (s *screen) other() { s.tail = nil }

// flush prints the held messages, each once with its latest text; one
// deleted by now (a streamed reply's retry deletes the messages past its
// shorter answer) is dropped.
func (s *screen) flush(deleted func(id string) bool) string {
	var sb strings.Builder
	for _, h := range s.held {
		if deleted(h.id) {
			continue
		}
		prev, seen := s.printed[h.id]
		if seen && prev == h.body {
			continue
		}
		label := h.label
		if seen {
			label += " (edited)"
		}
		s.printed[h.id] = h.body
		sb.WriteString(s.block(label, h.body))
	}
	s.held = s.held[:0]
	return sb.String()
}

// settled reports whether messages are held and none changed for d.
func (s *screen) settled(now time.Time, d time.Duration) bool {
	return len(s.held) > 0 && now.Sub(s.changed) >= d
}

// heldChannels are the channels of the held messages.
func (s *screen) heldChannels() []string {
	var out []string
	for _, h := range s.held {
		if !slices.Contains(out, h.channelID) {
			out = append(out, h.channelID)
		}
	}
	return out
}

// rows is how many terminal rows block takes at s.cols columns, each line
// wrapping at the edge (wide runes count two).
func (s *screen) rows(block string) int {
	cols := 80
	if s.cols != nil {
		if c := s.cols(); c > 0 {
			cols = c
		}
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		w := readline.Runes{}.WidthAll([]rune(line))
		n += max(1, (w+cols-1)/cols)
	}
	return n
}
