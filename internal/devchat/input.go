package devchat

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
)

// lineSource is where the chat's lines come from.
type lineSource interface {
	// next waits for the next line, showing prompt on a terminal; secret
	// hides what is typed. ok is false at the end of the input.
	next(ctx context.Context, prompt string, secret bool) (line string, ok bool)
	// err is why the input ended, when it was not its end or the user.
	err() error
	close()
}

// scriptInput reads lines from a pipe or file: nothing is shown, so the
// chat echoes what it read instead.
type scriptInput struct {
	lines   chan string
	readErr error
}

func newScriptInput(ctx context.Context, in io.Reader) *scriptInput {
	s := &scriptInput{lines: make(chan string)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(in)
		// A system prompt may be a few thousand characters on one line.
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		s.readErr = sc.Err()
	}()
	return s
}

func (s *scriptInput) next(ctx context.Context, _ string, _ bool) (string, bool) {
	select {
	case line, ok := <-s.lines:
		return line, ok
	case <-ctx.Done():
		return "", false
	}
}

// err is safe once next has said the input ended: lines is closed after
// readErr is set.
func (s *scriptInput) err() error { return s.readErr }
func (s *scriptInput) close()     {}

// terminalInput reads a person's typing with readline: line editing and
// history, key fields masked, and output that arrives while they type
// printed above the prompt, which is redrawn below it.
type terminalInput struct {
	rl      *readline.Instance
	stopped chan struct{}
}

func newTerminalInput(ctx context.Context, in io.Reader, out io.Writer) (*terminalInput, error) {
	rl, err := readline.NewEx(&readline.Config{
		Stdin:           readline.NewCancelableStdin(in),
		Stdout:          out,
		InterruptPrompt: "^C",
		EOFPrompt:       "",
	})
	if err != nil {
		return nil, fmt.Errorf("open the terminal for the chat: %w", err)
	}
	t := &terminalInput{rl: rl, stopped: make(chan struct{})}
	go func() {
		select {
		case <-ctx.Done():
			_ = rl.Close() // ends a Readline waiting for the user
		case <-t.stopped:
		}
	}()
	return t, nil
}

// next ends the input on Ctrl-D, and on Ctrl-C too: readline keeps the
// terminal raw, so Ctrl-C arrives as a key rather than as SIGINT.
func (t *terminalInput) next(_ context.Context, prompt string, secret bool) (string, bool) {
	var line string
	var err error
	if secret {
		cfg := t.rl.GenPasswordConfig()
		cfg.Prompt, cfg.MaskRune = prompt, '*'
		var b []byte
		b, err = t.rl.ReadPasswordWithConfig(cfg)
		line = string(b)
	} else {
		t.rl.SetPrompt(prompt)
		line, err = t.rl.Readline()
	}
	return line, err == nil
}

func (t *terminalInput) err() error { return nil }

func (t *terminalInput) close() {
	close(t.stopped)
	_ = t.rl.Close()
}

// output is where the chat prints: above the prompt on a terminal.
func (c *Chat) output() io.Writer {
	if t, ok := c.in.(*terminalInput); ok {
		return t.rl.Stdout()
	}
	return c.opts.Out
}

// readLine returns the next line: one put back by unread, else the input's.
func (c *Chat) readLine(ctx context.Context, prompt string, secret bool) (string, bool) {
	c.mu.Lock()
	if n := len(c.pending); n > 0 {
		line := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		return line, true
	}
	c.mu.Unlock()
	line, ok := c.in.next(ctx, prompt, secret)
	c.mu.Lock()
	c.lastSeen = time.Now()
	if c.opts.Terminal {
		c.screen.other() // the typed line stays on the screen
	}
	c.mu.Unlock()
	return line, ok
}

// unread puts line back, to be read next: a command typed into a form.
func (c *Chat) unread(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, line)
}

func (c *Chat) linger(ctx context.Context) {
	if c.opts.Linger <= 0 {
		return
	}
	// Bounded, so a personality that keeps talking cannot hold the exit.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		quiet := time.Since(c.lastSeen) >= c.opts.Linger
		c.mu.Unlock()
		if quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Chat) channelPrompt() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channelNameLocked(c.channel) + " > "
}

func (c *Chat) channelNameLocked(id string) string {
	if name, ok := c.channels[id]; ok {
		return name
	}
	if id == c.dm {
		return "DM with Tzurot"
	}
	return "channel " + id
}

// channelNamed is the "#name" and id of the offline guild's channel called
// name ("#random", "random"; "" or "general" is ChatChannel). Any name is a
// channel: its id derives from the name, so a restarted `tzurot dev` finds
// the same conversation history there.
func channelNamed(name string) (string, string) {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
	if name == "" || "#"+name == ChatChannel {
		return ChatChannel, ChatChannelID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	base, _ := strconv.ParseUint(ChatChannelID, 10, 64)
	return "#" + name, strconv.FormatUint(base+1+uint64(h.Sum32()), 10)
}

// echo repeats a typed line when there is no terminal to show it; one that
// looks like a key is not repeated.
func (c *Chat) echo(line string) {
	if c.opts.Terminal {
		return
	}
	if looksLikeKey(line) {
		line = "(a line that looks like an API key, not shown)"
	}
	c.println("you: " + line) // the chat's prompt label, whatever the user's name
}

// println prints one block of output (above the prompt, on a terminal).
// In a script the messages held so far are printed first, as they came
// first: held past their line only when a workflow started too late for
// waitForLine to see it.
func (c *Chat) println(s string) {
	if !c.opts.Terminal {
		c.flush()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printLocked(s)
}

func (c *Chat) printLocked(s string) {
	c.screen.other()
	fmt.Fprintln(c.output(), s)
}

// writeLocked writes what the screen decided to print, if anything.
func (c *Chat) writeLocked(s string) {
	if s != "" {
		_, _ = io.WriteString(c.output(), s)
	}
}

// columns is the terminal's width (0 when unknown).
func (c *Chat) columns() int {
	if t, ok := c.in.(*terminalInput); ok {
		return t.rl.Config.FuncGetWidth()
	}
	return 0
}

// flushSettled prints a script's held messages once they have been
// unchanged for settleAfter, until ctx ends: for answers no line waited
// for, which would otherwise wait for the next line.
func (c *Chat) flushSettled(ctx context.Context) {
	tick := time.NewTicker(settleAfter / 10)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			c.mu.Lock()
			settled := c.screen.settled(now, settleAfter)
			c.mu.Unlock()
			if settled {
				c.flush()
			}
		}
	}
}

// flush prints a script's held growing messages (screen.flush), leaving
// out those deleted since.
func (c *Chat) flush() {
	c.mu.Lock()
	channels := c.screen.heldChannels()
	c.mu.Unlock()
	deleted := map[string]bool{}
	for _, ch := range channels {
		for _, m := range c.opts.Discord.Messages(ch) {
			if m.Deleted {
				deleted[m.ID] = true
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeLocked(c.screen.flush(func(id string) bool { return deleted[id] }))
}
