// Package userexport writes everything tzurot holds about one user as one
// JSON document, the file /data export sends: their profile and settings,
// their keys' metadata (never a key, sealed or not), their usage, their
// conversation turns and their memories (without embeddings). Rows are read
// and written a page at a time, so an export of any size holds one page in
// memory besides what it has written.
package userexport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tzurot/tzurot/internal/store"
)

// Format names the document's shape; it changes when a field changes meaning.
const Format = "tzurot-user-export/1"

// pageSize is how many rows of a section are read at once.
const pageSize = 500

// Profile is the user's row, as exported.
type Profile struct {
	DiscordID   string    `json:"discord_id"`
	Username    string    `json:"username,omitempty"`
	Timezone    string    `json:"timezone"`
	Incognito   bool      `json:"incognito"`
	IsSuperuser bool      `json:"is_superuser"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Counts is how many rows each section of an export held, by section
// name (store.ExportSections).
type Counts map[string]int

// Total is the number of rows in every section.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Write writes the export of the user with discordID to w: a JSON object
// with "format", "exported_at", "discord_user_id", "profile" (null when
// the bot holds no row for them) and one array per store.ExportSections
// entry, oldest first. It returns the rows written per section; an error
// is the database's or w's, and w then holds a partial document.
func Write(ctx context.Context, st *store.Store, discordID string, now time.Time, w io.Writer) (Counts, error) {
	u, err := st.User(ctx, discordID)
	if err != nil {
		return nil, fmt.Errorf("export: read the user: %w", err)
	}
	ew := &errWriter{w: w}
	head := struct {
		Format        string    `json:"format"`
		ExportedAt    time.Time `json:"exported_at"`
		DiscordUserID string    `json:"discord_user_id"`
		Profile       *Profile  `json:"profile"`
	}{Format, now.UTC(), discordID, nil}
	if u != nil {
		p := Profile{DiscordID: u.DiscordID, Timezone: u.Timezone, Incognito: u.Incognito, IsSuperuser: u.IsSuperuser,
			CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
		if u.Username != nil {
			p.Username = *u.Username
		}
		head.Profile = &p
	}
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return nil, err
	}
	ew.write(b[:len(b)-2]) // the object without its closing "\n}"
	counts := Counts{}
	for _, sec := range store.ExportSections {
		ew.write([]byte(",\n  " + quote(sec.Name) + ": ["))
		n := 0
		if u != nil {
			var cur store.ExportCursor
			for {
				rows, next, err := st.ExportPage(ctx, sec, u.ID, cur, pageSize)
				if err != nil {
					return nil, err
				}
				for _, r := range rows {
					if n > 0 {
						ew.write([]byte(","))
					}
					ew.write([]byte("\n    "))
					ew.write(r)
					n++
				}
				if ew.err != nil {
					return nil, ew.err
				}
				if len(rows) < pageSize {
					break
				}
				cur = next
			}
		}
		if n > 0 {
			ew.write([]byte("\n  "))
		}
		ew.write([]byte("]"))
		counts[sec.Name] = n
	}
	ew.write([]byte("\n}\n"))
	return counts, ew.err
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// errWriter keeps the first write error and then writes nothing.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
