//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// A long reply goes through the real GenerateReply workflow on the dev
// server and reaches the Discord stand-in (which refuses content over 2000
// code points, as Discord does) as several messages that each render as the
// model meant: fences balanced, the language kept, code indentation intact,
// no mention or URL cut in two.
func TestLongRepliesAreSplitForDiscord(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey}, "anthropic/claude-sonnet-4")

	// Slash command mentions, masked links and inline code hold spaces, so
	// a cut at the last space before the limit lands inside one of them.
	mentions := strings.Repeat("Ask <@123456789012345678> in <#323456789012345678>: </wallet set:423456789012345678> "+
		"[read the setup guide first](https://example.com/docs/getting-started?section=install#step-2) "+
		"`go test ./... -run TestX -count 1` <t:1700000000:R>. ", 40)
	cases := []struct {
		name, reply string
		// min is the fewest messages the reply can take.
		min int
		// keep are substrings no message may cut.
		keep []string
	}{
		{name: "the issue's python block", reply: pythonReply(120), min: 3},
		{name: "two blocks, tildes and no language",
			reply: "First the config:\n\n~~~yaml\n" + indented(90, "  key_%03d: value\n") + "~~~\n\nThen the code:\n\n```\n" +
				indented(90, "\tif x_%03d {\n\t\treturn\n\t}\n") + "```\nThat is all.", min: 3},
		{name: "mentions and URLs", reply: mentions, min: 3,
			keep: []string{"<@123456789012345678>", "<#323456789012345678>", "</wallet set:423456789012345678>",
				"[read the setup guide first](https://example.com/docs/getting-started?section=install#step-2)",
				"`go test ./... -run TestX -count 1`", "<t:1700000000:R>"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request := fmt.Sprintf("80000000000000010%d", i)
			channel := fmt.Sprintf("90000000000000010%d", i)
			s.OpenRouter.Script(userKey, fakeopenrouter.Reply(tc.reply, ""))
			res := replyAsking(t, s, request, channel, "show me the whole thing")
			if res.Outcome != workflows.ReplyReplied || res.DiscordMessageID == "" {
				t.Fatalf("result %+v", res)
			}
			msgs := s.Discord.Messages(channel)
			if len(msgs) < tc.min {
				t.Fatalf("%d messages, want at least %d", len(msgs), tc.min)
			}
			if msgs[0].ID != res.DiscordMessageID {
				t.Errorf("the result names %s, not the first message %s", res.DiscordMessageID, msgs[0].ID)
			}
			var bodies []string
			for j, m := range msgs {
				if n := utf8.RuneCountInString(m.Content); n > 2000 {
					t.Errorf("message %d has %d characters", j, n)
				}
				if m.WebhookID == "" || m.Author.Username != "Kerach" {
					t.Errorf("message %d not posted as the personality", j)
				}
				if open := unclosedFence(m.Content); open != "" {
					t.Errorf("message %d leaves %q open:\n%s", j, open, m.Content)
				}
				bodies = append(bodies, m.Content)
			}
			for _, k := range tc.keep {
				if got, want := strings.Count(strings.Join(bodies, "\x00"), k), strings.Count(tc.reply, k); got != want {
					t.Errorf("%d whole %q across the messages, want %d: one was cut", got, k, want)
				}
			}
			// The code blocks read back from the messages are the reply's own,
			// line for line with their indentation; outside code only the
			// whitespace at the cuts may differ.
			if got, want := codeLines(bodies...), codeLines(tc.reply); got != want {
				t.Errorf("code changed between the reply and the messages:\n%s\n--- want ---\n%s", got, want)
			}
			if got, want := strings.Join(strings.Fields(prose(bodies...)), " "), strings.Join(strings.Fields(prose(tc.reply)), " "); got != want {
				t.Errorf("text outside code changed:\n%.300s\n--- want ---\n%.300s", got, want)
			}
		})
	}
}

// pythonReply is the reply of issue 11 item 4: about 4,300 characters, one
// python block of the given number of lines, most of them indented.
func pythonReply(lines int) string {
	var b strings.Builder
	b.WriteString("Here is the full script you asked for. It reads the log, groups the events and prints a summary.\n\n```python\n")
	for i := range lines {
		switch i % 12 {
		case 0:
			fmt.Fprintf(&b, "def step_%02d(events):\n", i/12)
		case 11:
			b.WriteString("\n")
		case 5:
			fmt.Fprintf(&b, "        if value > %d:\n", i)
		case 6:
			fmt.Fprintf(&b, "            total += value  # counted at line %d\n", i)
		default:
			fmt.Fprintf(&b, "    value = events.get('key_%03d', none)\n", i)
		}
	}
	b.WriteString("```\n\nRun it with `python summary.py events.log` and tell me what it prints.")
	return b.String()
}

func indented(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// fenceLine reports whether line is a fence: ``` or ~~~ (three or more)
// after any indentation, and returns the fence characters.
func fenceLine(line string) string {
	t := strings.TrimLeft(line, " \t")
	for _, c := range []string{"`", "~"} {
		if n := len(t) - len(strings.TrimLeft(t, c)); n >= 3 {
			return t[:n]
		}
	}
	return ""
}

// unclosedFence is the fence a message leaves open, or "".
func unclosedFence(msg string) string {
	open := ""
	for _, line := range strings.Split(msg, "\n") {
		f := fenceLine(line)
		switch {
		case f == "":
		case open == "":
			open = f
		case f[0] == open[0] && len(f) >= len(open) && strings.TrimSpace(strings.TrimLeft(line, " \t")[len(f):]) == "":
			open = ""
		}
	}
	return open
}

// codeLines is the lines inside code blocks of the messages, in order.
func codeLines(msgs ...string) string { return linesWhere(true, msgs) }

// prose is the text outside code blocks of the messages.
func prose(msgs ...string) string { return linesWhere(false, msgs) }

// linesWhere is the lines of the messages inside code blocks (inCode) or
// outside them, in order, the fence lines left out.
func linesWhere(inCode bool, msgs []string) string {
	var out []string
	for _, msg := range msgs {
		in := false
		for _, line := range strings.Split(msg, "\n") {
			if fenceLine(line) != "" {
				in = !in
				continue
			}
			if in == inCode {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}
