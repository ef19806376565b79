package discordsplit

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// checkParts asserts the package rules that hold for every input; the ones
// that hold only when the input leaves a choice (no token, grapheme cluster
// or fence line too long for a message) are checked when it does.
func checkParts(t *testing.T, text string, limit int, parts []Part) {
	t.Helper()
	if len(parts) == 0 {
		t.Fatal("no parts")
	}
	limit = max(limit, 1)
	fences := parseFences(text, limit)
	inCode := func(a, b int) bool { // does [a,b) touch a repairable code block's inside?
		for _, f := range fences {
			if f.repair && a < f.end && b > f.open {
				return true
			}
		}
		return false
	}
	if g := text[:parts[0].Start]; strings.TrimSpace(g) != "" {
		t.Fatalf("text before the first part is not whitespace: %q", g)
	}
	if g := text[parts[len(parts)-1].End:]; strings.TrimSpace(g) != "" {
		t.Fatalf("text after the last part is not whitespace: %q", g)
	}
	for i, p := range parts {
		if n := Len(p.Text); n > limit {
			t.Fatalf("part %d has %d code points, over %d", i, n, limit)
		}
		if p.Text != p.Reopen+text[p.Start:p.End]+p.Close {
			t.Fatalf("part %d is not its reopen + text[%d:%d] + close", i, p.Start, p.End)
		}
		if len(parts) > 1 && strings.TrimSpace(p.Text) == "" {
			t.Fatalf("part %d is blank", i)
		}
		if i == 0 {
			if p.Reopen != "" {
				t.Fatalf("the first part reopens %q", p.Reopen)
			}
			continue
		}
		prev := parts[i-1]
		gap := text[prev.End:p.Start]
		if prev.End > p.Start || strings.TrimSpace(gap) != "" {
			t.Fatalf("between parts %d and %d: dropped %q, not only whitespace", i-1, i, gap)
		}
		if gap != "" && inCode(prev.End, p.Start) {
			t.Fatalf("between parts %d and %d: dropped %q inside code", i-1, i, gap)
		}
		if (prev.Close == "") != (p.Reopen == "") {
			t.Fatalf("part %d closes %q but part %d reopens %q", i-1, prev.Close, i, p.Reopen)
		}
	}

	// Where the input leaves room, no cut splits a user-perceived character
	// or a token, and every part's fences balance. A part may lose up to half
	// its room to fence lines, so "room" is a quarter of a message.
	boundary := map[int]bool{0: true}
	longestCluster := 0
	g := uniseg.NewGraphemes(text)
	for g.Next() {
		from, to := g.Positions()
		boundary[to] = true
		longestCluster = max(longestCluster, Len(text[from:to]))
	}
	token := protectedTokens(text, fences)
	longestToken := longestRun(len(token), func(i int) bool { return token[i] }) + 1
	longestFenceRun := longestRun(len(text), func(i int) bool { return text[i] == '`' || text[i] == '~' })
	for i, p := range parts[1:] {
		cut := parts[i].End
		if 4*longestCluster <= limit && (!boundary[cut] || !boundary[p.Start]) {
			t.Fatalf("cut %d at %d/%d splits a grapheme cluster: %q|%q", i, cut, p.Start, text[max(0, cut-8):cut], text[p.Start:min(len(text), p.Start+8)])
		}
		if 4*longestCluster <= limit && 4*longestToken <= limit && 8*longestFenceRun <= limit && (token[cut] || token[p.Start]) {
			t.Fatalf("cut %d at %d splits a token: %q|%q", i, cut, text[max(0, cut-20):cut], text[p.Start:min(len(text), p.Start+20)])
		}
	}
	roomy := limit >= 32
	for _, line := range strings.Split(text, "\n") {
		roomy = roomy && 16*Len(line) < limit
	}
	if !roomy {
		return
	}
	for i, p := range parts {
		for _, f := range parseFences(p.Text, limit) {
			if f.end == len(p.Text) && f.bodyEnd == len(p.Text) {
				t.Fatalf("part %d leaves the block opened by %q unclosed:\n%s", i, f.reopen, p.Text)
			}
		}
	}
}

// longestRun is the longest run of consecutive i < n for which in is true.
func longestRun(n int, in func(int) bool) int {
	longest, cur := 0, 0
	for i := range n {
		cur++
		if !in(i) {
			cur = 0
		}
		longest = max(longest, cur)
	}
	return longest
}

func TestIssueExample(t *testing.T) {
	text := issueReply()
	if n := Len(text); n < 4200 || n > 4400 {
		t.Fatalf("the example is %d characters, want about 4,300", n)
	}
	parts := Parts(text, Limit)
	checkParts(t, text, Limit, parts)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	for i, p := range parts {
		if n := strings.Count(p.Text, "```"); n != 2 {
			t.Errorf("part %d has %d fences, want an opening and a closing one", i, n)
		}
		if i > 0 && !strings.HasPrefix(p.Text, "```python\n") {
			t.Errorf("part %d does not reopen the python block: %.40q", i, p.Text)
		}
	}
	// The code, read back from the parts, is the code: every line with its
	// indentation, every blank line.
	code := func(s string) string {
		var out []string
		in := false
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "```") {
				in = !in
				continue
			}
			if in {
				out = append(out, line)
			}
		}
		return strings.Join(out, "\n")
	}
	var joined []string
	for _, p := range parts {
		joined = append(joined, code(p.Text))
	}
	if got, want := strings.Join(joined, "\n"), code(text); got != want {
		t.Errorf("the code changed across the parts:\n%s\n---want---\n%s", got, want)
	}
	second := strings.SplitN(parts[1].Text, "\n", 3)[1]
	if strings.TrimSpace(second) == "" || (!strings.HasPrefix(second, "def ") && !strings.HasPrefix(second, "    ")) {
		t.Errorf("the second part's first code line lost its indentation: %q", second)
	}
}

func TestSplitCases(t *testing.T) {
	para := func(n int, word string) string { // n words, sentence every 12
		var b strings.Builder
		for i := range n {
			b.WriteString(word)
			if i%12 == 11 {
				b.WriteString(".")
			}
			b.WriteString(" ")
		}
		return strings.TrimSpace(b.String())
	}
	codeLines := func(n int, indent string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%sline_%03d = compute(%d)  # keep\n", indent[:i%len(indent)+1], i, i)
		}
		return b.String()
	}
	mentions := strings.Repeat("ping <@123456789012345678> and <@&223456789012345678> in <#323456789012345678> "+
		"about </wallet set:423456789012345678> at <t:1700000000:R> <:tzurot:523456789012345678> "+
		"<a:wave:623456789012345678> see https://example.com/a/very/long/path?with=query&and=more#frag "+
		"and <https://discord.com/channels/1/2/3> or [the docs](https://docs.example.com/x_(y)) ", 12)
	cases := []struct {
		name  string
		text  string
		limit int
		// parts is the expected count; 0 skips the check.
		parts int
		// check runs on the parts after the general rules.
		check func(t *testing.T, parts []Part)
	}{
		{name: "short text is one unchanged part", text: "Hello **there**.", limit: Limit, parts: 1,
			check: func(t *testing.T, parts []Part) {
				if parts[0].Text != "Hello **there**." {
					t.Errorf("%q", parts[0].Text)
				}
			}},
		{name: "blank text is one empty part", text: " \n\t ", limit: Limit, parts: 1,
			check: func(t *testing.T, parts []Part) {
				if parts[0].Text != "" {
					t.Errorf("%q", parts[0].Text)
				}
			}},
		{name: "paragraphs cut at a paragraph break",
			text: para(200, "Alpha") + "\n\n" + para(200, "Beta") + "\n\n" + para(200, "Gamma"), limit: Limit,
			check: func(t *testing.T, parts []Part) {
				for _, p := range parts {
					if w := strings.Fields(p.Text); w[0] != strings.TrimSuffix(w[len(w)-1], ".") {
						t.Errorf("part mixes paragraphs: %.30q … %.30q", p.Text, p.Text[len(p.Text)-30:])
					}
				}
			}},
		{name: "one paragraph cut after a sentence", text: para(600, "Word"), limit: Limit,
			check: func(t *testing.T, parts []Part) {
				for _, p := range parts[:len(parts)-1] {
					if !strings.HasSuffix(p.Text, ".") {
						t.Errorf("part ends mid-sentence: …%q", p.Text[len(p.Text)-20:])
					}
				}
			}},
		{name: "two code blocks",
			text:  "First:\n\n```go\n" + codeLines(60, "\t\t\t") + "```\n\nSecond:\n\n```js\n" + codeLines(60, "    ") + "```\nDone.",
			limit: Limit, parts: 3, check: fencesReopenWith("```go\n", "```js\n")},
		{name: "a block that fits in a message of its own is not split",
			text: para(100, "Intro") + "\n```go\n" + codeLines(45, "\t\t") + "```\n" + para(100, "Outro"), limit: Limit, parts: 3,
			check: func(t *testing.T, parts []Part) {
				if !strings.HasPrefix(parts[1].Text, "```go\n") || !strings.HasSuffix(parts[1].Text, "```") || parts[1].Reopen != "" {
					t.Errorf("the block is not whole in the second part: %.20q … %.20q", parts[1].Text, parts[1].Text[len(parts[1].Text)-20:])
				}
			}},
		{name: "tilde fence", text: "~~~ruby\n" + codeLines(120, "  ") + "~~~", limit: Limit,
			check: fencesReopenWith("~~~ruby\n")},
		{name: "fence with no language", text: "Output:\n```\n" + codeLines(120, "        ") + "```", limit: Limit,
			check: fencesReopenWith("```\n")},
		{name: "longer fence holding a shorter one",
			text: "````markdown\n" + strings.Repeat("```sh\nls -la\n```\n", 200) + "````", limit: Limit,
			check: fencesReopenWith("````markdown\n")},
		{name: "unclosed block is closed", text: "```python\nprint(1)\n", limit: Limit, parts: 1,
			check: func(t *testing.T, parts []Part) {
				if parts[0].Text != "```python\nprint(1)\n```" {
					t.Errorf("%q", parts[0].Text)
				}
			}},
		{name: "code line longer than a message", text: "```\n" + strings.Repeat("x = 1; ", 700) + "\n```", limit: Limit,
			check: fencesReopenWith("```\n")},
		{name: "long line with no spaces", text: strings.Repeat("a", 5000), limit: Limit, parts: 3,
			check: func(t *testing.T, parts []Part) {
				if Len(parts[0].Text) != Limit || Len(parts[1].Text) != Limit {
					t.Errorf("parts of %d and %d, want full ones", Len(parts[0].Text), Len(parts[1].Text))
				}
			}},
		{name: "CJK text cut after a sentence",
			text: strings.Repeat("吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。", 150), limit: Limit,
			check: func(t *testing.T, parts []Part) {
				for _, p := range parts[:len(parts)-1] {
					if !strings.HasSuffix(p.Text, "。") {
						t.Errorf("part ends mid-sentence: …%q", p.Text[len(p.Text)-12:])
					}
				}
			}},
		{name: "emoji sequences are never split",
			text: strings.Repeat("👨‍👩‍👧‍👦🇯🇵👍🏽é", 700), limit: Limit,
			check: func(t *testing.T, parts []Part) {
				for _, p := range parts {
					if !strings.HasPrefix(p.Text, "👨‍👩‍👧‍👦") && !strings.HasPrefix(p.Text, "🇯🇵") &&
						!strings.HasPrefix(p.Text, "👍🏽") && !strings.HasPrefix(p.Text, "é") {
						t.Errorf("part starts inside a cluster: %q", []rune(p.Text)[:3])
					}
				}
			}},
		{name: "mentions and URLs near every boundary", text: mentions, limit: Limit},
		{name: "mentions and URLs with a small limit", text: mentions, limit: 120},
		{name: "URL longer than a message is cut", text: "see https://example.com/" + strings.Repeat("x", 2500) + " ok", limit: Limit,
			check: func(t *testing.T, parts []Part) {
				if parts[0].Text != "see" {
					t.Errorf("the cut should fall before the URL first: %.20q", parts[0].Text)
				}
			}},
		{name: "inline code span kept whole",
			text: strings.Repeat("word ", 390) + "`a b c d e f g h i j k l m n o p q r s t u v w x y z`" + strings.Repeat(" tail", 100), limit: Limit,
			check: func(t *testing.T, parts []Part) {
				if strings.Count(parts[0].Text, "`")%2 != 0 {
					t.Errorf("the first part cuts the inline code: …%q", parts[0].Text[len(parts[0].Text)-30:])
				}
			}},
		{name: "fence inside a list item",
			text: "1. Install:\n   ```bash\n" + strings.Repeat("   apt-get install -y something-long\n", 80) + "   ```\n2. Done.", limit: Limit,
			check: fencesReopenWith("```bash\n")},
		{name: "prose line of backticks is not a fence start", text: strings.Repeat("use ``` to open a block ", 100), limit: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts := Parts(tc.text, tc.limit)
			checkParts(t, tc.text, tc.limit, parts)
			if tc.parts != 0 && len(parts) != tc.parts {
				t.Errorf("%d parts, want %d", len(parts), tc.parts)
			}
			if tc.check != nil {
				tc.check(t, parts)
			}
			if got := Split(tc.text, tc.limit); len(got) != len(parts) || got[0] != parts[0].Text {
				t.Errorf("Split disagrees with Parts")
			}
		})
	}
}

// fencesReopenWith checks that every part after a cut inside code reopens
// with one of the given fence lines, and that some part does.
func fencesReopenWith(opens ...string) func(*testing.T, []Part) {
	return func(t *testing.T, parts []Part) {
		t.Helper()
		reopened := false
		for i, p := range parts {
			if p.Reopen == "" {
				continue
			}
			reopened = true
			ok := false
			for _, o := range opens {
				ok = ok || p.Reopen == o
			}
			if !ok {
				t.Errorf("part %d reopens with %q, want one of %q", i, p.Reopen, opens)
			}
		}
		if !reopened && len(parts) > 1 {
			t.Error("no part reopens a block")
		}
	}
}

func TestLenCountsCodePoints(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "é": 1, "e\u0301": 2, "👍🏽": 2, "👨‍👩‍👧‍👦": 7, "吾輩": 2} {
		if got := Len(s); got != want {
			t.Errorf("Len(%q) = %d, want %d (UTF-16 would be %d)", s, got, want, utf16Len(s))
		}
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf8.RuneLen(r)/4 + 1
	}
	return n
}

// FuzzParts checks the rules on any text and limit; `go test` runs the
// seeds, `go test -fuzz FuzzParts -fuzzminimizetime 5s ./internal/discordsplit`
// explores (the default minute spent minimizing each new multi-kilobyte
// input looks like a stall).
func FuzzParts(f *testing.F) {
	f.Add(issueReply(), uint16(Limit))
	f.Add(issueReply(), uint16(300))
	f.Add("```py\n    a = 1\n\n    b = 2\n```\ntext <@123> https://x.io/y", uint16(20))
	f.Add("~~~\n\tx\n~~~~\n~~~ unclosed\n  y", uint16(12))
	f.Add("👨‍👩‍👧‍👦 🇯🇵 e\u0301 吾輩は猫である。名前はまだ無い。", uint16(5))
	f.Add("a ́b \r\n\r\n c", uint16(2))
	f.Add("`x y` [a b](http://e.com) <t:1:R> ```z```", uint16(7))
	f.Add(strings.Repeat("word ", 50), uint16(1))
	f.Fuzz(func(t *testing.T, text string, limit uint16) {
		if !utf8.ValidString(text) {
			return // Discord takes JSON strings; Go would send U+FFFD
		}
		l := int(limit) % (Limit + 1)
		parts := Parts(text, l)
		checkParts(t, text, l, parts)
		cands := analyse(text, max(l, 1)).cands
		for i := 1; i < len(cands); i++ {
			if cands[i].end < cands[i-1].end {
				t.Fatalf("cuts out of order at %d: %+v after %+v", i, cands[i], cands[i-1])
			}
		}
		if strings.TrimFunc(text, unicode.IsSpace) != "" && strings.TrimSpace(parts[0].Text) == "" {
			t.Fatal("a text with content gave a blank first part")
		}
	})
}

// TestPartsRandom runs the rules over texts assembled at random from the
// pieces replies are made of, with limits from tiny to Discord's, so the
// ordinary test run explores more than the fuzz seeds.
func TestPartsRandom(t *testing.T) {
	pieces := []string{
		"word ", "Sentence ends. ", "\n", "\n\n", "    ", "\t", "```python\n", "```\n", "~~~\n", "````\n",
		"  ```js\n", "`inline code` ", "<@123456789012345678>", "<t:1700000000:R> ", "https://example.com/path?q=1 ",
		"[link text](https://e.com/x) ", "👨‍👩‍👧‍👦", "🇯🇵", "e\u0301", "吾輩は猫である。", "\r\n", "``` not a fence ",
		"    indented_code(x)\n", strings.Repeat("x", 40), "~~strike~~ ",
	}
	rng := rand.New(rand.NewPCG(11, 4))
	for i := range 400 {
		var b strings.Builder
		for range rng.IntN(300) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		limit := []int{1, 7, 40, 120, 500, Limit}[i%6]
		parts := Parts(text, limit)
		checkParts(t, text, limit, parts)
	}
	// The issue's reply, damaged at random: pieces inserted, bytes dropped,
	// stretches repeated.
	base := issueReply()
	for range 200 {
		b := []byte(base)
		for range rng.IntN(20) {
			p := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b = append(b[:p], append([]byte(pieces[rng.IntN(len(pieces))]), b[p:]...)...)
			case 1:
				b = append(b[:p], b[min(len(b), p+5):]...)
			case 2:
				b = append(b, b[p:p+rng.IntN(len(b)-p)]...)
			}
		}
		text := strings.ToValidUTF8(string(b), "?")
		limit := rng.IntN(Limit + 1)
		checkParts(t, text, limit, Parts(text, limit))
	}
}

func BenchmarkParts(b *testing.B) {
	for _, tc := range []struct{ name, text string }{
		{"issue reply", issueReply()},
		{"100k of code", strings.Repeat(issueReply(), 25)},
		{"200k without a space", strings.Repeat("a", 200000)},
		{"200k of tildes", strings.Repeat("~", 200000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				Parts(tc.text, Limit)
			}
		})
	}
}
