package devchat

import (
	"strings"
	"testing"
)

// term plays shows on a screen at cols columns into a vt and returns what
// the terminal shows ("…" stands as "~" in the ASCII vt and back).
type term struct {
	t  *testing.T
	vt *vt
	sc *screen
}

func newTerm(t *testing.T, cols int) *term {
	v := &vt{cols: cols}
	return &term{t: t, vt: v, sc: newScreen(true, func() int { return v.cols })}
}

func (tm *term) write(s string) {
	tm.vt.write(strings.ReplaceAll(s, "…", "~"))
}

func (tm *term) show(v view) {
	if v.label == "" {
		v.label = "Demo:"
	}
	v.live = true
	tm.write(tm.sc.message(v))
}

func (tm *term) other(line string) {
	tm.sc.other()
	tm.write(line + "\n")
}

func (tm *term) screen() string { return strings.ReplaceAll(tm.vt.screen(), "~", "…") }

func (tm *term) want(step, want string) {
	tm.t.Helper()
	if got := tm.screen(); got != want {
		tm.t.Fatalf("%s: screen\n%s\nwant\n%s", step, got, want)
	}
}

// A reply's half, deleted while its block is in reach (a failed stream's
// DiscardStream), is redrawn away: the screen shows only what came after.
func TestScreenTerminalDeletedMessageIsRedrawnAway(t *testing.T) {
	tm := newTerm(t, 80)
	tm.show(view{id: "1001", body: "Echo from the half reply"})
	tm.show(view{id: "2002", label: "Other:", body: "another reply"})
	tm.want("posted", "Demo #1001: Echo from the half reply\nOther #2002: another reply")
	tm.write(tm.sc.deleted(view{id: "1001", label: "Demo:", live: true}))
	tm.want("deleted", "Other #2002: another reply")
	// The one left still grows in place.
	tm.show(view{id: "2002", label: "Other:", body: "another reply, grown"})
	tm.want("grown", "Other #2002: another reply, grown")
}

// Deleted once out of reach (output below it), a message gets a note
// saying it is gone, tagged as it was.
func TestScreenTerminalDeletedOutOfReachIsNoted(t *testing.T) {
	tm := newTerm(t, 80)
	tm.show(view{id: "1001", body: "Echo from the half reply"})
	tm.other("@sam I couldn't answer")
	tm.write(tm.sc.deleted(view{id: "1001", label: "Demo:", live: true}))
	tm.want("deleted", "Demo #1001: Echo from the half reply\n@sam I couldn't answer\nDemo #1001: (message deleted)")
	// A message the chat printed whole (not growing) is noted too.
	tm.write(tm.sc.message(view{id: "3003", label: "Tzurot:", body: "a notice"}))
	tm.write(tm.sc.deleted(view{id: "3003", label: "Tzurot:"}))
	if !strings.HasSuffix(tm.screen(), "Tzurot: a notice\nTzurot: (message deleted)") {
		t.Fatalf("screen\n%s\nlacks the note of the deleted notice", tm.screen())
	}
}

// A reply continued into a second message whose first part's last edit
// lands after the second was posted reads in order: the first part's
// block is redrawn above the second's, each tagged with its message.
func TestScreenTerminalContinuedReplyReadsInOrder(t *testing.T) {
	tm := newTerm(t, 80)
	tm.show(view{id: "1001", body: "number 34 The quick"})
	tm.show(view{id: "1002", body: "The quick brown fox number 36 jumps"})
	tm.show(view{id: "1001", body: "number 34 The quick brown fox number 35"})
	tm.want("part 1's last edit", "Demo #1001: number 34 The quick brown fox number 35\nDemo #1002: The quick brown fox number 36 jumps")
	if i, j := strings.Index(tm.screen(), "35"), strings.Index(tm.screen(), "36"); i > j {
		t.Fatal("36 shows before 35")
	}
}

// Three replies growing at once stay apart: each first line has its own
// tag, and growth past another's block is redrawn in its own block.
func TestScreenTerminalRepliesSideBySide(t *testing.T) {
	tm := newTerm(t, 80)
	for _, id := range []string{"1001", "1002", "1003"} {
		tm.show(view{id: id, body: "Echo from"})
	}
	tm.show(view{id: "1002", body: "Echo from two"})
	tm.show(view{id: "1001", body: "Echo from one"})
	tm.show(view{id: "1003", body: "Echo from three"})
	tm.want("grown", "Demo #1001: Echo from one\nDemo #1002: Echo from two\nDemo #1003: Echo from three")
	// Out of reach, a continuation names its message.
	tm.other("you: next")
	tm.show(view{id: "1002", body: "Echo from two, and more"})
	tm.want("continued", "Demo #1001: Echo from one\nDemo #1002: Echo from two\nDemo #1003: Echo from three\nyou: next\nDemo #1002, continued: …, and more")
}

// A file added to a message by its last edit (a voice's MP3) shows on that
// message: redrawn in it while in reach, else as attached to it.
func TestScreenTerminalAttachmentAddedByAnEdit(t *testing.T) {
	const file = "[attachment voice.mp3, audio/mpeg, 1.0 KB] http://cdn/voice.mp3"
	tm := newTerm(t, 120)
	tm.show(view{id: "1001", label: "Voice:", body: "part one"})
	tm.show(view{id: "1002", label: "Voice:", body: "part two"})
	tm.show(view{id: "1001", label: "Voice:", body: "part one\n" + file, files: []string{file}})
	tm.want("in reach", "Voice #1001: part one\n    "+file+"\nVoice #1002: part two")

	tm = newTerm(t, 120)
	tm.show(view{id: "1001", label: "Voice:", body: "part one"})
	tm.other("you: hello")
	tm.show(view{id: "1002", label: "Voice:", body: "part two"})
	tm.show(view{id: "1001", label: "Voice:", body: "part one\n" + file, files: []string{file}})
	tm.want("out of reach", "Voice #1001: part one\nyou: hello\nVoice #1002: part two\n📎 attached to Voice #1001: "+file)
}

// A script drops a held message deleted before it was printed, and notes
// one deleted after.
func TestScreenScriptDeleted(t *testing.T) {
	sc := newScreen(false, nil)
	play(sc, []event{{id: "a", text: "half", live: true}, {id: "b", text: "whole", live: true}})
	if got := sc.deleted(view{id: "a", label: "Demo:", live: true}); got != "" {
		t.Fatalf("deleting a held message printed %q", got)
	}
	if got := sc.flush(func(string) bool { return false }); got != "Demo: whole\n" {
		t.Fatalf("flush printed %q, want only the message left", got)
	}
	if got := sc.deleted(view{id: "b", label: "Demo:", live: true}); got != "Demo: (message deleted)\n" {
		t.Fatalf("deleting a printed message printed %q", got)
	}
}
