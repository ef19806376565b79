//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/ent/migrationrun"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// seedOwned creates a user and a personality of theirs with the given
// aliases, and returns the personality's id.
func seedOwned(t *testing.T, db *sql.DB, discordID, name string, aliases ...string) string {
	t.Helper()
	var uid, pid string
	if err := db.QueryRow(`INSERT INTO users (discord_id) VALUES ($1) RETURNING id`, discordID).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`INSERT INTO personalities (name, display_name, system_prompt, owner_id, is_public)
VALUES ($1, $1, 'private prompt of '||$1, $2, false) RETURNING id`, name, uid).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	for _, a := range aliases {
		if _, err := db.Exec(`INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2)`, pid, a); err != nil {
			t.Fatal(err)
		}
	}
	return pid
}

// personalityFingerprint is everything of one personality the import could
// touch, as text, to compare before and after.
func personalityFingerprint(t *testing.T, db *sql.DB, id string) string {
	t.Helper()
	var fp string
	err := db.QueryRow(`SELECT row_to_json(p)::text
  || ' aliases=' || (SELECT coalesce(string_agg(alias, ',' ORDER BY alias), '') FROM personality_aliases WHERE personality_id = p.id)
  || ' history=' || (SELECT count(*) FROM conversation_history WHERE personality_id = p.id)
  || ' llm=' || (SELECT count(*) FROM llm_configs WHERE personality_id = p.id)
  || ' voice=' || (SELECT count(*) FROM voice_configs WHERE personality_id = p.id)
FROM personalities p WHERE id = $1`, id).Scan(&fp)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// A backup personality whose name is already another owner's personality's
// name (in any case) or alias is a conflict: reported by file and name,
// nothing of the other personality touched, verification failing. The
// import recognises its own earlier result by its import record, also
// after the imported personality was renamed, and a re-run changes nothing.
func TestShapesImportNeverWritesIntoAnotherOwnersPersonality(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	db := s.Activities.SQL
	alice := seedOwned(t, db, "100000000000000001", "lilith-3", "Lil")
	carol := seedOwned(t, db, "100000000000000003", "Morrow-7")          // the backup's morrow-7, in another case
	bob := seedOwned(t, db, "100000000000000002", "bobs-own", "shade-9") // an alias equal to a backup name
	before := map[string]string{}
	for _, id := range []string{alice, bob, carol} {
		before[id] = personalityFingerprint(t, db, id)
	}

	dir := t.TempDir()
	shapes := []genShape{
		{slug: "lilith-3", id: "00000000-0000-4000-8000-000000000003", aliases: []string{"Lilith", "Lil2"}, exchanges: 5,
			fields: map[string]any{"voice_id": "v1", "engine_model": "openai/o1-pro"}},
		{slug: "morrow-7", id: "00000000-0000-4000-8000-000000000007", aliases: []string{"Morrow"}, exchanges: 3},
		{slug: "shade-9", id: "00000000-0000-4000-8000-000000000009", aliases: []string{"Shade"}, exchanges: 2},
		{slug: "clean-1", id: "00000000-0000-4000-8000-000000000001", aliases: []string{"Clean", "Bobs-Own"}, exchanges: 4},
	}
	writeBackup(t, dir, shapes)

	var out bytes.Buffer
	err := opcli.StartDataMigration(ctx, s.Config, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 2}, &out, s.Activities.Log)
	if err == nil || !strings.Contains(err.Error(), "verification failed") {
		t.Fatalf("an import that left three backup personalities out passed: %v\n%s", err, out.String())
	}
	for id, fp := range before {
		if got := personalityFingerprint(t, db, id); got != fp {
			t.Errorf("another owner's personality was touched:\nbefore %s\nafter  %s", fp, got)
		}
	}
	var clean int
	scanRow(t, db.QueryRow(`SELECT count(*) FROM conversation_history h JOIN personalities p ON p.id = h.personality_id WHERE p.name = 'clean-1'`), &clean)
	if clean != 8 {
		t.Errorf("clean-1 has %d history turns, want 8", clean)
	}
	var n int
	scanRow(t, db.QueryRow(`SELECT count(*) FROM personality_aliases WHERE lower(alias) = 'bobs-own'`), &n)
	if n != 0 {
		t.Error("an alias equal to another owner's personality's name was added")
	}
	scanRow(t, db.QueryRow(`SELECT count(*) FROM personalities`), &n)
	if n != 4 {
		t.Errorf("%d personalities, want the 3 seeded and clean-1", n)
	}
	report := out.String()
	for _, want := range []string{
		`personalities/lilith-3/lilith-3.json: username: "lilith-3" is the name of a personality already in the database that this import did not create`,
		`personalities/morrow-7/morrow-7.json: username: "morrow-7" is the name of a personality already in the database`,
		`personalities/shade-9/shade-9.json: username: "shade-9" is an alias of bobs-own, already in the database`,
		`personalities/clean-1/clean-1.json: aliases: "Bobs-Own" is the name of the personality bobs-own in the database; not added`,
		`verification: personalities/lilith-3/lilith-3.json: "lilith-3" was not imported`,
		`verification: personalities/morrow-7/morrow-7.json: "morrow-7" was not imported`,
		`verification: personalities/shade-9/shade-9.json: "shade-9" was not imported`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the CLI does not say %q:\n%s", want, report)
		}
	}
	if i, j := strings.Index(report, "[verification]"), strings.Index(report, "[collisions]"); i < 0 || j < 0 || i > j {
		t.Errorf("verification failures are not listed before the collisions:\n%s", report)
	}

	// The operator renames their own personalities out of the way (name and
	// display name: a backup name equal to another owner's display name
	// would take its mentions, access.Clash); the import runs again and
	// imports the rest as themselves.
	mustExec(t, db, `UPDATE personalities SET name = 'alices-lilith', display_name = 'Alices Lilith' WHERE id = $1`, alice)
	mustExec(t, db, `UPDATE personalities SET name = 'carols-morrow', display_name = 'Carols Morrow' WHERE id = $1`, carol)
	mustExec(t, db, `DELETE FROM personality_aliases WHERE alias = 'shade-9'`)
	st := finishMigration(t, startMigration(t, s, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 2}))
	if st.Outcome != "succeeded" || st.Counts.Changed != 3 || st.Counts.Unchanged != 1 {
		t.Fatalf("second run: %+v", st)
	}
	var model string
	scanRow(t, db.QueryRow(`SELECT l.model FROM llm_configs l JOIN personalities p ON p.id = l.personality_id WHERE p.name = 'lilith-3'`), &model)
	if model != "openai/o1-pro" {
		t.Errorf("lilith-3's model %q", model)
	}
	if got := personalityFingerprint(t, db, alice); strings.Contains(got, "o1-pro") || !strings.Contains(got, "history=0") || !strings.Contains(got, "aliases=Lil ") {
		t.Errorf("alice's personality after the import: %s", got)
	}

	// Its own result: recognised by the import record, even renamed.
	mustExec(t, db, `UPDATE personalities SET name = 'clean-renamed' WHERE name = 'clean-1'`)
	again := finishMigration(t, startMigration(t, s, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 2, Force: true}))
	scanRow(t, db.QueryRow(`SELECT count(*) FROM personalities`), &n)
	var turns int
	scanRow(t, db.QueryRow(`SELECT count(*) FROM conversation_history`), &turns)
	if again.Outcome != "succeeded" || again.Counts.Changed != 0 || n != 7 || turns != 2*(5+3+2+4) {
		t.Fatalf("re-run on its own result: %+v, %d personalities, %d turns", again, n, turns)
	}
	var record string
	scanRow(t, db.QueryRow(`SELECT custom_fields->'shapes_import'->>'source' FROM personalities WHERE name = 'clean-renamed'`), &record)
	if record != shapes[3].id {
		t.Errorf("import record source %q, want the shape id", record)
	}
}

// Verification compares each backup personality with the row it was
// imported as: a row of the same name that is not the import's fails it.
func TestShapesVerifyFailsWhenANameIsNotTheImportsOwn(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	writeBackup(t, dir, []genShape{{slug: "solo-1", id: "00000000-0000-4000-8000-0000000000a1", exchanges: 1}})
	// A personality of that name with a config, history and all: what the
	// old import would have verified by name.
	pid := seedOwned(t, s.Activities.SQL, "100000000000000009", "solo-1")
	mustExec(t, s.Activities.SQL, `INSERT INTO llm_configs (personality_id, model) VALUES ($1, 'x/y')`, pid)
	mustExec(t, s.Activities.SQL, `INSERT INTO conversation_history (personality_id, channel_id, role, content) VALUES ($1, $2, 'user', 'a'), ($1, $2, 'assistant', 'b')`, pid, operator.ShapesChannel)
	problems, err := s.Operator.MigrationVerify(ctx, operator.MigrationVerifyInput{Name: "shapes-import", Args: map[string]string{"dir": dir}})
	if err == nil || len(problems) != 1 || !strings.Contains(problems[0], `"solo-1" was not imported`) {
		t.Fatalf("verify: %v %v", problems, err)
	}
}

// A personality with 12,000 exchanges (about 10 MB of history) imports
// through the real workflow, in bounded statements, with its progress in
// the batch's heartbeats, and verifies.
func TestShapesImportLargeHistory(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	const exchanges = 12000
	const historyChunkRows = 1000
	writeBackup(t, dir, []genShape{
		{slug: "chatty-1", id: "00000000-0000-4000-8000-0000000000c1", exchanges: exchanges},
		{slug: "quiet-2", id: "00000000-0000-4000-8000-0000000000c2", exchanges: 2},
	})
	if fi, err := os.Stat(dir + "/personalities/chatty-1/chatty-1_chat_history.json"); err != nil || fi.Size() < 9<<20 {
		t.Fatalf("generated history: %v %v", fi, err)
	}

	// The worker runs in this process: sample its heap while it imports.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	start := time.Now()
	run := startMigration(t, s, "shapes-import", opcli.DataMigrationOptions{Dir: dir})
	// The batch heartbeats its progress while it writes the long history;
	// the server has it as the pending activity's details (what the Web UI
	// and the CLI show).
	codec, err := temporalclient.Codec(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ctx.Err() == nil {
			d, err := s.Client.DescribeWorkflowExecution(ctx, run.GetID(), "")
			if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return
			}
			for _, pa := range d.GetPendingActivities() {
				var res operator.MigrationBatchResult
				if pa.GetHeartbeatDetails() != nil && codec.DataConverter().FromPayloads(pa.GetHeartbeatDetails(), &res) == nil && res.Progress != "" {
					if len(notes) == 0 || notes[len(notes)-1] != res.Progress {
						notes = append(notes, res.Progress)
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	st := finishMigration(t, run)
	took := time.Since(start)
	close(stop)
	<-sampled
	<-watched
	if len(notes) == 0 {
		t.Error("no progress in the batch's heartbeats while it wrote 24,000 history turns")
	}
	for _, note := range notes {
		var n int
		if _, err := fmt.Sscanf(note, "chatty-1: %d history turns written", &n); err != nil || n%historyChunkRows != 0 {
			t.Errorf("progress note %q", note)
		}
	}
	t.Logf("progress seen: %q", notes)
	t.Logf("heap: %d MB before, %d MB at most during the import", base>>20, peak>>20)
	if grew := int64(peak) - int64(base); grew > 32<<20 {
		t.Errorf("the heap grew by %d MB while importing a 10 MB history", grew>>20)
	}
	if st.Outcome != "succeeded" || st.Counts.Read != 2 || st.Counts.Changed != 2 {
		t.Fatalf("import: %+v", st)
	}
	var turns int
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM conversation_history h JOIN personalities p ON p.id = h.personality_id WHERE p.name = 'chatty-1'`), &turns)
	if turns != 2*exchanges {
		t.Fatalf("chatty-1 has %d turns, want %d", turns, 2*exchanges)
	}
	t.Logf("imported %d turns in %s", turns, took)
	if took > 60*time.Second {
		t.Errorf("the import took %s", took)
	}
}

// messyBackup writes a backup with more than 276 problems of every
// severity: unreadable files (truncated and not-JSON personality and
// history files), refused values (impossible birthdays, a temperature in
// words, avatars that are not http(s)), and alias collisions.
func messyBackup(t *testing.T, dir string) (birthdays []string) {
	var shapes []genShape
	id := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	shapes = append(shapes,
		genShape{slug: "broken-trunc", id: id(1), rawFile: `{"username": "broken-trunc", "jailbreak": "You are`},
		genShape{slug: "broken-html", id: id(2), rawFile: "<html><body>502 Bad Gateway</body></html>"},
		genShape{slug: "hist-trunc", id: id(3), rawHistory: `{"shape_id": "` + id(3) + `", "messages": [{"ts": 1649472667, "message": "hi"`},
		genShape{slug: "hist-html", id: id(4), rawHistory: "<html>not a history</html>"},
	)
	impossible := []string{"02-30", "13-01", "2023-02-29", "04-31", "00-10", "06-00"}
	for i := range 30 {
		slug := fmt.Sprintf("bday-%02d", i)
		shapes = append(shapes, genShape{slug: slug, id: id(100 + i), fields: map[string]any{"birthday": impossible[i%len(impossible)]}})
		birthdays = append(birthdays, "personalities/"+slug+"/"+slug+".json: birthday: birthday "+fmt.Sprintf("%q", impossible[i%len(impossible)]))
	}
	for i := range 110 {
		shapes = append(shapes, genShape{slug: fmt.Sprintf("value-%03d", i), id: id(200 + i),
			fields: map[string]any{"engine_temperature": "hot", "avatar": "ftp://example.com/a.png"}})
	}
	for i := range 30 {
		alias := fmt.Sprintf("Pair%02d", i)
		shapes = append(shapes,
			genShape{slug: fmt.Sprintf("pair-%02d-a", i), id: id(400 + 2*i), aliases: []string{alias}},
			genShape{slug: fmt.Sprintf("pair-%02d-b", i), id: id(401 + 2*i), aliases: []string{alias}, owned: map[string]bool{}})
	}
	writeBackup(t, dir, shapes)
	return birthdays
}

var severityOrder = map[string]int{"[verification]": 0, "[unreadable files]": 1, "[refused values]": 2, "[collisions]": 3}

// Every problem of a messy backup is kept in a report file (0600, beside
// the backups); the CLI shows the most severe first, says how many more
// there are and where the whole report is.
func TestShapesImportKeepsTheWholeReport(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	birthdays := messyBackup(t, dir)

	var out bytes.Buffer
	if err := opcli.StartDataMigration(ctx, s.Config, "shapes-import", opcli.DataMigrationOptions{Dir: dir, BatchSize: 25}, &out, s.Activities.Log); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cli := out.String()
	t.Log(cli)

	// The summary: most severe first, then how many more and where.
	var shown []string
	var trailer string
	for _, line := range strings.Split(cli, "\n") {
		switch {
		case strings.HasPrefix(line, "  ["):
			shown = append(shown, strings.TrimPrefix(line, "  "))
		case strings.HasPrefix(line, "  … and "):
			trailer = line
		}
	}
	var more, total int
	var path string
	if _, err := fmt.Sscanf(trailer, "  … and %d more not shown (%d in all:", &more, &total); err != nil {
		t.Fatalf("no remainder line (%v):\n%s", err, cli)
	}
	if i := strings.LastIndex(trailer, " is "); i > 0 {
		path = trailer[i+len(" is "):]
	}
	if total < 276 || more != total-len(shown) || len(shown) != 30 {
		t.Fatalf("%d shown, %d more, %d in all:\n%s", len(shown), more, total, cli)
	}
	last := 0
	for _, line := range shown {
		sev := line[:strings.Index(line, "]")+1]
		if severityOrder[sev] < last {
			t.Fatalf("not most severe first: %q after severity %d:\n%s", line, last, cli)
		}
		last = severityOrder[sev]
	}
	if !strings.HasPrefix(shown[0], "[unreadable files] ") || !strings.Contains(trailer, "4 unreadable files") || !strings.Contains(trailer, "30 collisions") {
		t.Errorf("summary:\n%s", cli)
	}

	// The whole report: every problem, owner-only.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the whole report %q: %v\n%s", path, err, cli)
	}
	if fi.Mode().Perm() != 0o600 || !strings.HasPrefix(path, s.Config.BackupDir) {
		t.Errorf("report %s mode %v, want 0600 in %s", path, fi.Mode().Perm(), s.Config.BackupDir)
	}
	data, _ := os.ReadFile(path)
	report := string(data)
	wants := append([]string{
		"[unreadable files] personalities/broken-trunc/broken-trunc.json: truncated",
		"[unreadable files] personalities/broken-html/broken-html.json: not JSON",
		"[unreadable files] personalities/hist-trunc/hist-trunc_chat_history.json: truncated",
		"[unreadable files] personalities/hist-html/hist-html_chat_history.json: not JSON",
		`[refused values] personalities/value-109/value-109.json: avatar: "ftp://example.com/a.png" is not an http(s) URL`,
		`[collisions] personalities.json: personalities.` + fmt.Sprintf("00000000-0000-4000-8000-%012d", 459),
	}, birthdays...)
	for _, want := range wants {
		if !strings.Contains(report, want) {
			t.Errorf("the whole report lacks %q", want)
		}
	}
	lines := 0
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "[") {
			lines++
		}
	}
	var reported int64
	run, err := s.DB.MigrationRun.Query().Order(migrationrunByNewest()).First(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reported = run.Counts["reported"]
	if lines != total || int64(lines) != reported {
		t.Errorf("the report has %d lines, the summary says %d, the run counted %d", lines, total, reported)
	}
	if len(run.Report) != 31 || run.Report[30] != strings.TrimPrefix(trailer, "  ") {
		t.Errorf("run record report: %d lines, last %q", len(run.Report), run.Report[len(run.Report)-1])
	}

	// `tzurot migrate data status shapes-import` shows the same, later.
	var status bytes.Buffer
	if err := opcli.DataMigrationStatus(ctx, s.Config, "shapes-import", &status, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status.String(), "  "+shown[0]+"\n") || !strings.Contains(status.String(), trailer+"\n") {
		t.Errorf("status:\n%s", status.String())
	}
}

func migrationrunByNewest() migrationrun.OrderOption {
	return migrationrun.ByCreatedAt(entsql.OrderDesc())
}
