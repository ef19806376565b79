package devchat

import (
	"context"
	"fmt"
	"time"
)

// readLine shows prompt (on a terminal) and waits for the next line.
func (c *Chat) readLine(ctx context.Context, lines <-chan string, prompt string) (string, bool) {
	c.mu.Lock()
	if c.opts.Interactive {
		c.prompt = prompt
		fmt.Fprint(c.opts.Out, prompt)
	}
	c.mu.Unlock()
	var line string
	var ok bool
	select {
	case line, ok = <-lines:
	case <-ctx.Done():
	}
	c.mu.Lock()
	c.prompt = "" // the user's Enter moved the cursor past it
	c.lastSeen = time.Now()
	c.mu.Unlock()
	return line, ok
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
	switch id {
	case ChatChannelID:
		return ChatChannel
	case c.dm:
		return "DM with Tzurot"
	}
	return "channel " + id
}

// echo repeats a typed line when there is no terminal to show it.
func (c *Chat) echo(line string) {
	if !c.opts.Interactive {
		c.println(ChatUsername + ": " + line)
	}
}

// println prints one block of output, keeping a prompt on screen below it.
func (c *Chat) println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.printLocked(s)
}

func (c *Chat) printLocked(s string) {
	if c.opts.Interactive && c.prompt != "" {
		// Clear the prompt line, print, and put the prompt back.
		fmt.Fprint(c.opts.Out, "\r\033[K"+s+"\n"+c.prompt)
		return
	}
	fmt.Fprintln(c.opts.Out, s)
}
