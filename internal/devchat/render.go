package devchat

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

func anyList(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

var (
	timestampMarkup = regexp.MustCompile(`<t:(-?\d+)(?::([tTdDfFR]))?>`)
	mentionMarkup   = regexp.MustCompile(`<(@!?|@&|#)(\d+)>`)
)

// renderMessage is the text a Discord client shows for m: its content with
// timestamps and mentions resolved (names gives a mention's name: kind "@",
// "@&" or "#" and an id; "" for none), and its embeds' text.
func renderMessage(m fakediscord.Message, names func(kind, id string) string) string {
	return renderWithFiles(m, names, attachmentLines(m, nil))
}

// renderWithFiles is renderMessage with files as m's attachment lines.
func renderWithFiles(m fakediscord.Message, names func(kind, id string) string, files []string) string {
	text := timestampMarkup.ReplaceAllStringFunc(m.Content, func(s string) string {
		sub := timestampMarkup.FindStringSubmatch(s)
		sec, err := strconv.ParseInt(sub[1], 10, 64)
		if err != nil {
			return s
		}
		t := time.Unix(sec, 0)
		if sub[2] == "R" {
			return relative(time.Until(t))
		}
		return t.Local().Format("Mon 2 Jan 2006 15:04")
	})
	// Mentions show the names the stand-in's guild holds; one it does not
	// know stays as written.
	text = mentionMarkup.ReplaceAllStringFunc(text, func(s string) string {
		sub := mentionMarkup.FindStringSubmatch(s)
		kind := sub[1]
		if kind == "@!" {
			kind = "@"
		}
		if name := names(kind, sub[2]); name != "" {
			return name
		}
		return s
	})
	for _, e := range m.Embeds {
		for _, k := range []string{"title", "description"} {
			if v, _ := e[k].(string); v != "" {
				text += "\n" + v
			}
		}
		for _, f := range anyList(e["fields"]) {
			name, _ := f["name"].(string)
			value, _ := f["value"].(string)
			text += "\n" + name + ": " + value
		}
	}
	// Files (an /imagine picture, a voice's MP3, a /data export) are served
	// by the stand-in like Discord's CDN, which answers only a signed URL
	// (ex, is, hm) before it expires: the link shown is signed as a client
	// fetching the message now gets it, so opening it shows or plays them.
	for _, line := range files {
		text += "\n" + line
	}
	return strings.TrimSpace(text)
}

// attachmentLines are the lines renderMessage shows for m's files, one
// each: name, type, size in KB and a signed link. signed, when not nil,
// keeps each file's first signed link (by its unsigned URL), as a client
// keeps the links of a message it has, so a message shown again (edited)
// shows the same lines.
func attachmentLines(m fakediscord.Message, signed map[string]string) []string {
	var out []string
	for _, a := range m.Attachments {
		link, ok := signed[a.URL]
		if !ok {
			link = fakediscord.SignedURL(a)
			if signed != nil {
				signed[a.URL] = link
			}
		}
		out = append(out, fmt.Sprintf("[attachment %s, %s, %.1f KB] %s", a.Filename, a.ContentType, float64(a.Size)/1024, link))
	}
	return out
}

// relative renders a duration the way Discord's R timestamps do.
func relative(d time.Duration) string {
	future := d > 0
	if d < 0 {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "a few seconds"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
