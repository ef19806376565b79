// Package reasoning separates a model's reasoning from its visible reply:
// reasoning models put their chain of thought in tags such as <think> inside the
// content, which Discord users must not see but the history keeps.
package reasoning

import (
	"regexp"
	"strings"
)

var (
	tagNames = `think|thinking|reasoning|thought|reflection|scratchpad|analysis`
	openRe   = regexp.MustCompile(`(?i)<(` + tagNames + `)(\s[^>]*)?>`)
	closeRe  = regexp.MustCompile(`(?i)</(` + tagNames + `)\s*>`)
	blankRe  = regexp.MustCompile(`\n{3,}`)
)

// Split returns the visible reply and the reasoning removed from it. Tags
// inside fenced code blocks and inline code spans are content, not reasoning.
func Split(content string) (visible, reasoning string) {
	code := codeSpans(content)
	inCode := func(i int) bool {
		for _, c := range code {
			if i >= c[0] && i < c[1] {
				return true
			}
		}
		return false
	}
	var out strings.Builder
	var thoughts []string
	pos := 0

	// A closing tag before any opening one: the model omitted <think>, and
	// everything before it is reasoning.
	firstOpen := firstOutside(openRe, content, 0, inCode)
	if c := firstOutside(closeRe, content, 0, inCode); c != nil && (firstOpen == nil || c[0] < firstOpen[0]) {
		thoughts = append(thoughts, content[:c[0]])
		pos = c[1]
	}
	for {
		o := firstOutside(openRe, content, pos, inCode)
		if o == nil {
			out.WriteString(content[pos:])
			break
		}
		out.WriteString(content[pos:o[0]])
		name := strings.ToLower(content[o[2]:o[3]])
		end := -1
		for _, c := range closeRe.FindAllStringSubmatchIndex(content[o[1]:], -1) {
			start := o[1] + c[0]
			if !inCode(start) && strings.ToLower(content[o[1]+c[2]:o[1]+c[3]]) == name {
				thoughts = append(thoughts, content[o[1]:start])
				end = o[1] + c[1]
				break
			}
		}
		if end < 0 {
			// Cut off while thinking: the rest is reasoning.
			thoughts = append(thoughts, content[o[1]:])
			break
		}
		pos = end
	}
	return tidy(out.String()), Join(thoughts...)
}

// Join joins the non-empty reasoning parts with blank lines, e.g. OpenRouter's
// separate reasoning field and the tags found in the content.
func Join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n\n")
}

func tidy(s string) string {
	return strings.TrimSpace(blankRe.ReplaceAllString(s, "\n\n"))
}

// firstOutside finds the first match of re at or after from that is not in code.
func firstOutside(re *regexp.Regexp, s string, from int, inCode func(int) bool) []int {
	for _, m := range re.FindAllStringSubmatchIndex(s[from:], -1) {
		if !inCode(from + m[0]) {
			for i := range m {
				if m[i] >= 0 {
					m[i] += from
				}
			}
			return m
		}
	}
	return nil
}

// codeSpans returns the byte ranges of fenced code blocks (``` or ~~~) and
// inline code spans (runs of backticks closed by an equal run).
func codeSpans(s string) [][2]int {
	var spans [][2]int
	i := 0
	for i < len(s) {
		lineStart := i == 0 || s[i-1] == '\n'
		if lineStart {
			trimmed := strings.TrimLeft(s[i:], " ")
			indent := len(s[i:]) - len(trimmed)
			for _, fence := range []string{"```", "~~~"} {
				if indent <= 3 && strings.HasPrefix(trimmed, fence) {
					start := i
					nl := strings.IndexByte(s[i:], '\n')
					if nl < 0 {
						return append(spans, [2]int{start, len(s)})
					}
					j := i + nl + 1
					end := len(s)
					for j < len(s) {
						lineEnd := strings.IndexByte(s[j:], '\n')
						line := s[j:]
						if lineEnd >= 0 {
							line = s[j : j+lineEnd]
						}
						if strings.HasPrefix(strings.TrimLeft(line, " "), fence) {
							end = j + len(line)
							break
						}
						if lineEnd < 0 {
							j = len(s)
							break
						}
						j += lineEnd + 1
					}
					spans = append(spans, [2]int{start, end})
					i = end
					goto next
				}
			}
		}
		if s[i] == '`' {
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			run := strings.Repeat("`", n)
			rest := s[i+n:]
			for k := 0; k < len(rest); {
				idx := strings.Index(rest[k:], run)
				if idx < 0 {
					break
				}
				at := k + idx
				// The closing run must be exactly n backticks long.
				if (at+n >= len(rest) || rest[at+n] != '`') && (at == 0 || rest[at-1] != '`') {
					spans = append(spans, [2]int{i, i + n + at + n})
					i = i + n + at + n
					goto next
				}
				k = at + n
			}
			i += n
			continue
		}
		i++
	next:
	}
	return spans
}
