//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
)

// shapes-import names personalities by the one rule of internal/access, as
// /personality does: a backup name, alias or display name that access.Clash
// finds taken by another owner's personality (its display name included,
// private ones included) is reported by file and name and not imported (an
// alias: left out), so no mention moves to the import; reserved words
// (access.IsReserved) are refused as names, aliases and display names.
// A display name may not be taken from another owner either.
func TestShapesImportFollowsTheNamingRule(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	db := s.Activities.SQL
	var uid string
	if err := db.QueryRow(`INSERT INTO users (discord_id) VALUES ('100000000000000001') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	seed := func(name, display string, public bool, aliases ...string) string {
		var pid string
		if err := db.QueryRow(`INSERT INTO personalities (name, display_name, owner_id, is_public) VALUES ($1, $2, $3, $4) RETURNING id`,
			name, display, uid, public).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		for _, a := range aliases {
			if _, err := db.Exec(`INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2)`, pid, a); err != nil {
				t.Fatal(err)
			}
		}
		return pid
	}
	seed("alice-lilith", "Lilith", true)
	seed("alice-kerach", "Kerach", true)
	seed("alice-secret", "Hushed", false, "Quiet One")
	before := map[string]string{}
	ids := column(t, db, `SELECT id FROM personalities`)
	for _, id := range ids {
		before[id] = personalityFingerprint(t, db, id)
	}

	dir := t.TempDir()
	writeBackup(t, dir, []genShape{
		// name = another owner's display name
		{slug: "lilith", id: "00000000-0000-4000-8000-0000000000b1", exchanges: 1},
		// name = another owner's private display name
		{slug: "hushed", id: "00000000-0000-4000-8000-0000000000b3", exchanges: 1},
		// imported, but its aliases are another owner's display name, a
		// private personality's alias and reserved words
		{slug: "other-2", id: "00000000-0000-4000-8000-0000000000b2", aliases: []string{"Kerach", "everyone", "Here Be Dragons", "quiet one", "Twin"}, exchanges: 1},
		// display name = another owner's name
		{slug: "copycat", id: "00000000-0000-4000-8000-0000000000b4", fields: map[string]any{"name": "Alice-Kerach"}, exchanges: 1},
		// reserved name and reserved display name
		{slug: "here", id: "00000000-0000-4000-8000-0000000000b5", exchanges: 1},
		{slug: "dragon", id: "00000000-0000-4000-8000-0000000000b6", fields: map[string]any{"name": "Here Be Dragons"}, exchanges: 1},
		// a display name another owner has is taken
		{slug: "lilith-two", id: "00000000-0000-4000-8000-0000000000b7", fields: map[string]any{"name": "Lilith"}, exchanges: 1},
	})
	var out bytes.Buffer
	err := opcli.StartDataMigration(ctx, s.Config, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 3}, &out, s.Activities.Log)
	report := out.String()
	t.Logf("import: %v\n%s", err, report)
	if err == nil || !strings.Contains(err.Error(), "verification failed") {
		t.Errorf("an import that left six backup personalities out passed: %v", err)
	}

	for id, fp := range before {
		if got := personalityFingerprint(t, db, id); got != fp {
			t.Errorf("another owner's personality was touched:\nbefore %s\nafter  %s", fp, got)
		}
	}
	imported := column(t, db, `SELECT name FROM personalities WHERE owner_id IS NULL ORDER BY name`)
	if got := strings.Join(imported, ","); got != "other-2" {
		t.Errorf("imported %s, want other-2 alone", got)
	}
	aliases := column(t, db, `SELECT alias FROM personality_aliases x JOIN personalities p ON p.id = x.personality_id WHERE p.name = 'other-2' ORDER BY alias`)
	if got := strings.Join(aliases, ","); got != "Twin" {
		t.Errorf("other-2 has the aliases %s, want only Twin", got)
	}

	// Mentions by anyone, and by Alice, still reach Alice's personalities.
	ps := s.DB.Personality.Query().WithAliases().AllX(ctx)
	idx := access.NewIndex(ps)
	alice, err := access.Load(ctx, s.DB, "100000000000000001", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []access.Speaker{{DiscordID: "9"}, alice} {
		for _, c := range []struct{ msg, want string }{{"@Lilith hi", "alice-lilith"}, {"@Kerach hi", "alice-kerach"}} {
			got := idx.Mentions(sp, c.msg, 5)
			if len(got) != 1 || got[0].Name != c.want {
				n := "nothing"
				if len(got) > 0 {
					n = got[0].Name
				}
				t.Errorf("after shapes-import, %q from %s reaches %s, want Alice's %s", c.msg, sp.DiscordID, n, c.want)
			}
		}
	}
	for _, ref := range []string{"Hushed", "Quiet One"} {
		if m, ok := idx.Lookup(alice, ref); !ok || m.Personality.Name != "alice-secret" {
			n := "nothing"
			if ok {
				n = m.Personality.Name
			}
			t.Errorf("for Alice, %q means %s, not her private alice-secret", ref, n)
		}
	}

	for _, want := range []string{
		`[collisions] personalities/lilith/lilith.json: username: "lilith" is the display name of alice-lilith, already in the database`,
		`[collisions] personalities/hushed/hushed.json: username: "hushed" is the display name of alice-secret`,
		`[collisions] personalities/copycat/copycat.json: name: "Alice-Kerach" is the name of the personality alice-kerach in the database`,
		`[refused values] personalities/here/here.json: username: "here" is a reserved word`,
		`[refused values] personalities/dragon/dragon.json: name: "Here Be Dragons" is a reserved word`,
		`[collisions] personalities/other-2/other-2.json: aliases: "Kerach" is the display name of alice-kerach, already in the database; not added`,
		`[collisions] personalities/other-2/other-2.json: aliases: "quiet one" is an alias of alice-secret`,
		`[refused values] personalities/other-2/other-2.json: aliases: "everyone" is a reserved word`,
		`[refused values] personalities/other-2/other-2.json: aliases: "Here Be Dragons" is a reserved word`,
		`verification: personalities/lilith/lilith.json: "lilith" was not imported`,
		`verification: personalities/here/here.json: "here" was not imported`,
		`verification: personalities/dragon/dragon.json: "dragon" was not imported: its display name (name) "Here Be Dragons" is a reserved word`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(report, "other-2: ") && strings.Contains(report, "aliases are neither") {
		t.Errorf("verification counted other-2's refused aliases as lost")
	}
}
