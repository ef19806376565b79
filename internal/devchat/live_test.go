package devchat

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// event is one thing the chat is shown: a post or edit of a message (id),
// or a line of its own ("" id).
type event struct {
	id, text string
	live     bool
}

// play shows the events to sc as Show does (edited once the message was
// shown before) and returns what was written.
func play(sc *screen, events []event) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range events {
		if e.id == "" {
			sc.other()
			out = append(out, e.text+"\n")
			continue
		}
		out = append(out, sc.message(view{id: e.id, channelID: "c1", label: "Demo:", body: e.text, edited: seen[e.id], live: e.live}))
		seen[e.id] = true
	}
	return out
}

// vt is a terminal just big enough for the chat's output: printable
// ASCII wrapping at cols, line breaks, carriage return, cursor up (ESC[nA)
// and erase to the end of the screen (ESC[J).
type vt struct {
	cols     int
	lines    []string
	row, col int
}

var csi = regexp.MustCompile(`^\x1b\[(\d*)([AJ])`)

func (t *vt) write(s string) {
	for len(s) > 0 {
		if m := csi.FindStringSubmatch(s); m != nil {
			s = s[len(m[0]):]
			if m[2] == "A" {
				n, _ := strconv.Atoi(m[1])
				t.row = max(0, t.row-n)
				continue
			}
			t.grow()
			t.lines = t.lines[:t.row+1]
			t.lines[t.row] = t.lines[t.row][:min(t.col, len(t.lines[t.row]))]
			continue
		}
		r := s[0]
		s = s[1:]
		switch r {
		case '\n':
			t.row, t.col = t.row+1, 0
		case '\r':
			t.col = 0
		default:
			if t.col == t.cols {
				t.row, t.col = t.row+1, 0
			}
			t.grow()
			line := []byte(t.lines[t.row] + strings.Repeat(" ", max(0, t.col+1-len(t.lines[t.row]))))
			line[t.col] = r
			t.lines[t.row] = string(line)
			t.col++
		}
	}
}

func (t *vt) grow() {
	for len(t.lines) <= t.row {
		t.lines = append(t.lines, "")
	}
}

// screen is what the terminal shows, without trailing blanks.
func (t *vt) screen() string {
	lines := make([]string, len(t.lines))
	for i, l := range t.lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// A script shows a growing message once, whole, when its line's workflows
// have ended (flush); other output is printed at once, in its place.
func TestScreenScriptHoldsAGrowingMessageUntilFlush(t *testing.T) {
	sc := newScreen(false, nil)
	out := play(sc, []event{
		{id: "m1", text: "Once upon", live: true},
		{id: "m1", text: "Once upon a time", live: true},
		{id: "e1", text: "a private answer"},
		{id: "m1", text: "Once upon a time there was a fox.", live: true},
	})
	if got := strings.Join(out, ""); got != "Demo: a private answer\n" {
		t.Fatalf("printed %q before the flush, want only the message that cannot stream", got)
	}
	now := time.Now()
	if sc.settled(now, time.Minute) || !sc.settled(now.Add(time.Minute), time.Minute) {
		t.Error("held messages settle only once unchanged for the time given")
	}
	if got := sc.flush(func(string) bool { return false }); got != "Demo: Once upon a time there was a fox.\n" {
		t.Fatalf("flush printed %q, want the whole reply once", got)
	}
	if got := sc.flush(func(string) bool { return false }); got != "" {
		t.Fatalf("a second flush printed %q", got)
	}
	if sc.settled(now.Add(time.Minute), time.Minute) {
		t.Error("nothing is held after a flush, yet it is settled")
	}
	// Edited after it was printed (a stream no line waited for): printed
	// again at the next flush, marked.
	play(sc, []event{{id: "m1", text: "Once upon a time there was a fox. The end.", live: true}})
	if got := sc.flush(func(string) bool { return false }); got != "Demo: (edited) Once upon a time there was a fox. The end.\n" {
		t.Fatalf("flush printed %q", got)
	}
}

// Held messages print in the order of their first post; one deleted before
// the flush (a retried stream's message past its shorter answer) is not.
func TestScreenScriptFlushOrderAndDeleted(t *testing.T) {
	sc := newScreen(false, nil)
	play(sc, []event{
		{id: "a", text: "first part", live: true},
		{id: "b", text: "second part", live: true},
		{id: "c", text: "stray part", live: true},
		{id: "a", text: "first part, grown", live: true},
	})
	if got := sc.heldChannels(); len(got) != 1 || got[0] != "c1" {
		t.Errorf("held channels %v, want [c1]", got)
	}
	got := sc.flush(func(id string) bool { return id == "c" })
	if want := "Demo: first part, grown\nDemo: second part\n"; got != want {
		t.Fatalf("flush printed %q, want %q", got, want)
	}
}

// On a terminal a growing message is redrawn in place while it is the last
// thing printed; after other output, only its new text is printed, in a
// block that further growth redraws; changed earlier text is printed whole.
func TestScreenTerminalRedrawsAGrowingMessage(t *testing.T) {
	term := &vt{cols: 20}
	sc := newScreen(true, func() int { return term.cols })
	steps := []struct {
		e    event
		want string // the whole screen after it
	}{
		{event{id: "m1", text: "Once upon", live: true}, "Demo #m1: Once upon"},
		{event{id: "m1", text: "Once upon a time there", live: true}, "Demo #m1: Once upon\na time there"},
		{event{id: "m1", text: "Once upon a time there was", live: true}, "Demo #m1: Once upon\na time there was"},
		{event{text: "you: hi"}, "Demo #m1: Once upon\na time there was\nyou: hi"},
		{event{id: "m1", text: "Once upon a time there was a fox", live: true},
			"Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox"},
		{event{id: "m1", text: "Once upon a time there was a fox.", live: true}, "Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox."},
		{event{text: "you: again"}, "Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox.\nyou: again"},
		{event{id: "m1", text: "Twice", live: true},
			"Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox.\nyou: again\nDemo #m1, edited: Tw\nice"},
		{event{id: "n1", text: "not streamed"}, "Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox.\nyou: again\nDemo #m1, edited: Tw\nice\nDemo: not streamed"},
		{event{id: "n1", text: "not streamed, edited"},
			"Demo #m1: Once upon\na time there was\nyou: hi\nDemo #m1, continued:\n … a fox.\nyou: again\nDemo #m1, edited: Tw\nice\nDemo: not streamed\nDemo: (edited) not s\ntreamed, edited"},
	}
	seen := map[string]bool{}
	for i, st := range steps {
		// The emulator is ASCII: "…" (one column) goes through it as "~".
		var s string
		if st.e.id == "" {
			sc.other()
			s = st.e.text + "\n"
		} else {
			s = sc.message(view{id: st.e.id, channelID: "c1", label: "Demo:", body: st.e.text, edited: seen[st.e.id], live: st.e.live})
			seen[st.e.id] = true
		}
		term.write(strings.ReplaceAll(s, "…", "~"))
		if got := strings.ReplaceAll(term.screen(), "~", "…"); got != st.want {
			t.Errorf("step %d: screen\n%s\nwant\n%s", i, got, st.want)
		}
	}
}

// rows counts wrapped lines and the indented further lines of a block.
func TestScreenRows(t *testing.T) {
	sc := newScreen(true, func() int { return 10 })
	for block, want := range map[string]int{
		"short\n":                      1,
		"exactly10c\n":                 1,
		"eleven chrs\n":                2,
		"a\n    b\n":                   2,
		strings.Repeat("x", 25) + "\n": 3,
	} {
		if got := sc.rows(block); got != want {
			t.Errorf("rows(%q) = %d, want %d", block, got, want)
		}
	}
}

// What can stream: posts of a webhook or the bot, not an interaction's
// answer (the application's webhook) and not an ephemeral message.
func TestMayStream(t *testing.T) {
	const app = "1100000000000000001"
	cases := []struct {
		m    fakediscord.Message
		want bool
	}{
		{fakediscord.Message{WebhookID: "1200000000000000001"}, true},
		{fakediscord.Message{}, true},
		{fakediscord.Message{WebhookID: app}, false},
		{fakediscord.Message{WebhookID: app, Flags: 1 << 6}, false},
	}
	for i, tc := range cases {
		if got := mayStream(tc.m, app); got != tc.want {
			t.Errorf("case %d: mayStream = %v, want %v", i, got, tc.want)
		}
	}
}

// A message taller than a redraw may move over continues in a block below.
func TestScreenTerminalTallMessageContinues(t *testing.T) {
	sc := newScreen(true, func() int { return 10 })
	show := func(body string) string {
		return sc.message(view{id: "m", channelID: "c1", label: "Demo:", body: body, live: true})
	}
	short := strings.Repeat("x", 95) // "Demo #m: " + 95 = 11 rows
	if got := show(short); strings.Contains(got, "\x1b[") {
		t.Fatalf("first post %q moves the cursor", got)
	}
	got := show(short + strings.Repeat("y", 50))
	if !strings.HasPrefix(got, "\x1b[11A") {
		t.Fatalf("growth to 16 rows printed %q, want it redrawn 11 rows up", got)
	}
	tall := short + strings.Repeat("y", 150) // 26 rows
	got = show(tall)
	if want := "Demo #m, continued: …" + strings.Repeat("y", 100) + "\n"; got != want {
		t.Fatalf("growth past %d rows printed %q, want only the new text below, %q", maxRedrawRows, got, want)
	}
}
