package discordsplit

import (
	"fmt"
	"strings"
)

// issueReply is the reply of issue 11 item 4: about 4,300 characters whose
// body is one fenced python block of 120 lines, most of them indented.
func issueReply() string {
	var b strings.Builder
	b.WriteString("Here is the full script you asked for. It reads the log, groups the events and prints a summary.\n\n")
	b.WriteString("```python\n")
	for i := 0; i < 120; i++ {
		switch {
		case i%12 == 0:
			fmt.Fprintf(&b, "def step_%02d(events):\n", i/12)
		case i%12 == 11:
			b.WriteString("\n")
		case i%12 == 5:
			fmt.Fprintf(&b, "        if value > %d:\n", i)
		case i%12 == 6:
			fmt.Fprintf(&b, "            total += value  # counted at line %d\n", i)
		default:
			fmt.Fprintf(&b, "    value = events.get('key_%03d', none)\n", i)
		}
	}
	b.WriteString("```\n\nRun it with `python summary.py events.log` and tell me what it prints.")
	return b.String()
}
