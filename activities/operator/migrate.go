package operator

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent/migrationrun"
	"github.com/tzurot/tzurot/internal/heartbeat"
)

// MigrationCounts are a run's running totals.
type MigrationCounts struct {
	Read      int64 `json:"read"`
	Changed   int64 `json:"changed"`
	Unchanged int64 `json:"unchanged"`
	Reported  int64 `json:"reported"`
}

// Add sums two counts.
func (c MigrationCounts) Add(o MigrationCounts) MigrationCounts {
	return MigrationCounts{c.Read + o.Read, c.Changed + o.Changed, c.Unchanged + o.Unchanged, c.Reported + o.Reported}
}

// maxReport bounds how many report lines a batch returns to the workflow (a
// preview while the run goes on); every line is kept in the run's report
// file (see reportPath) and counted.
const maxReport = 200

// dataMigration is one named data migration: the tables it touches (backed up
// before it writes), how to process one page of rows after a cursor, and how
// to check afterwards that nothing was lost.
type dataMigration struct {
	tables []string
	// writes are, per table, the columns of rows already there (in the
	// backup) that the migration may change, besides updated_at, which it
	// sets to now() whenever it changes a row. A migration adds rows and
	// changes these columns only; it never deletes a row. Rollback tells the
	// migration's own changes (which it undoes) from later ones (which it
	// refuses to lose) by them.
	writes map[string][]string
	// page handles at most n rows after cursor; it writes nothing in a dry
	// run. Its writes must be idempotent, keyed by the rows' natural keys, so
	// a page retried after a crash changes nothing twice.
	page   func(ctx context.Context, a *Activities, p pageInput) (pageResult, error)
	verify func(ctx context.Context, a *Activities, args map[string]string) ([]string, error)
}

type pageInput struct {
	RunID  uuid.UUID
	Cursor string
	N      int
	DryRun bool
	Args   map[string]string
	// Progress, when set, heartbeats a note during a long page.
	Progress progressNote
}

type pageResult struct {
	Cursor string // the last key handled; unchanged means no rows were left
	Done   bool
	Counts MigrationCounts
	Report []string // lines of severity SevRefused
	// Findings are report lines with their own severity.
	Findings []Finding
}

// dataMigrations is every data migration by name.
func (a *Activities) dataMigrations() map[string]dataMigration {
	return map[string]dataMigration{
		"llm-config-jsonb": llmConfigJSONB,
		"error-messages":   errorMessages,
		"custom-fields":    customFields,
		"assign-ownership": assignOwnership,
		"shapes-import":    shapesImport,
	}
}

// DataMigrationNames lists the migrations operators can start, in their order.
var DataMigrationNames = []string{"shapes-import", "llm-config-jsonb", "error-messages", "custom-fields", "assign-ownership"}

func (a *Activities) migration(name string) (dataMigration, error) {
	m, ok := a.dataMigrations()[name]
	if !ok {
		names := make([]string, 0)
		for n := range a.dataMigrations() {
			names = append(names, n)
		}
		sort.Strings(names)
		return m, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no data migration is called %q: the migrations are %s", name, strings.Join(names, ", ")), ErrUnknownMigration, nil)
	}
	return m, nil
}

// MigrationBeginInput starts a run.
type MigrationBeginInput struct {
	Name       string `json:"name"`
	WorkflowID string `json:"workflow_id"`
	DryRun     bool   `json:"dry_run"`
	Force      bool   `json:"force,omitempty"`
}

// MigrationBegin records the run, refusing a migration that already
// succeeded (unless forced, or a dry run). Idempotent per workflow id.
func (a *Activities) MigrationBegin(ctx context.Context, in MigrationBeginInput) (uuid.UUID, error) {
	if _, err := a.migration(in.Name); err != nil {
		return uuid.Nil, err
	}
	if r, err := a.DB.MigrationRun.Query().Where(migrationrun.WorkflowID(in.WorkflowID), migrationrun.OutcomeEQ("running")).First(ctx); err == nil {
		return r.ID, nil
	}
	if !in.DryRun && !in.Force {
		done, err := a.DB.MigrationRun.Query().Where(
			migrationrun.Name(in.Name), migrationrun.DryRun(false), migrationrun.OutcomeEQ("succeeded"),
		).First(ctx)
		if err == nil {
			return uuid.Nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%s was already applied (run %s finished %s): start it with --force to run it again", in.Name, done.ID, done.FinishedAt.Format(time.RFC3339)),
				ErrAlreadyApplied, nil)
		}
	}
	r, err := a.DB.MigrationRun.Create().SetName(in.Name).SetWorkflowID(in.WorkflowID).SetDryRun(in.DryRun).Save(ctx)
	if err != nil {
		return uuid.Nil, fmt.Errorf("record migration run: %w", err)
	}
	return r.ID, nil
}

// MigrationBackupInput names the run to back up for.
type MigrationBackupInput struct {
	RunID uuid.UUID `json:"run_id"`
	Name  string    `json:"name"`
}

// MigrationBackup takes a custom-format pg_dump of the tables the migration
// writes, before it writes, and records where it is.
func (a *Activities) MigrationBackup(ctx context.Context, in MigrationBackupInput) (string, error) {
	m, err := a.migration(in.Name)
	if err != nil {
		return "", err
	}
	dir, err := a.privateDir(a.BackupDir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.dump", in.Name, in.RunID))
	if err := a.dump(ctx, path, m.tables); err != nil {
		return "", err
	}
	if err := a.DB.MigrationRun.UpdateOneID(in.RunID).SetBackupPath(path).Exec(ctx); err != nil {
		return "", err
	}
	return path, nil
}

// MigrationBatchInput continues a run from a cursor.
type MigrationBatchInput struct {
	RunID     uuid.UUID         `json:"run_id"`
	Name      string            `json:"name"`
	Cursor    string            `json:"cursor"`
	BatchSize int               `json:"batch_size"`
	DryRun    bool              `json:"dry_run"`
	Args      map[string]string `json:"args,omitempty"`
	// Budget is how long to keep taking pages before returning, so the
	// workflow shows progress and can pause between calls.
	Budget time.Duration `json:"budget"`
}

// MigrationBatchResult is where a batch stopped.
type MigrationBatchResult struct {
	Cursor string          `json:"cursor"`
	Done   bool            `json:"done"`
	Counts MigrationCounts `json:"counts"`
	// Report is a preview (at most maxReport lines); the whole report is
	// in the run's report file.
	Report []string `json:"report,omitempty"`
	// Progress says what a long page is doing, in heartbeats only, e.g.
	// "kerach: 12000 history turns written".
	Progress string `json:"progress,omitempty"`
}

// MigrationBatch processes pages until the budget is spent or no rows are
// left, heartbeating the cursor after every page: a retry after a crash reads
// it back and resumes mid-batch instead of starting the batch over.
func (a *Activities) MigrationBatch(ctx context.Context, in MigrationBatchInput) (MigrationBatchResult, error) {
	m, err := a.migration(in.Name)
	if err != nil {
		return MigrationBatchResult{}, err
	}
	res := resumed(ctx, MigrationBatchResult{Cursor: in.Cursor})
	res.Progress = "" // what the killed attempt was doing, not this one
	n := in.BatchSize
	if n <= 0 {
		n = 1000
	}
	deadline := time.Now().Add(in.Budget)
	for {
		progress := func(note string) {
			hb := res
			hb.Progress = note
			activity.RecordHeartbeat(ctx, hb)
		}
		page, err := m.page(ctx, a, pageInput{RunID: in.RunID, Cursor: res.Cursor, N: n, DryRun: in.DryRun, Args: in.Args, Progress: progress})
		if err != nil {
			return res, err
		}
		findings := page.Findings
		for _, line := range page.Report {
			findings = append(findings, Finding{SevRefused, line})
		}
		if err := a.writeReportPart(in.Name, in.RunID, "page:"+res.Cursor, findings); err != nil {
			return res, err
		}
		res.Counts = res.Counts.Add(page.Counts)
		for _, f := range findings {
			if len(res.Report) < maxReport {
				res.Report = append(res.Report, f.Text)
			}
		}
		res.Done = page.Done || page.Cursor == res.Cursor
		res.Cursor = page.Cursor
		activity.RecordHeartbeat(ctx, res)
		if res.Done || time.Now().After(deadline) {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
}

// MigrationVerifyInput names what to verify.
type MigrationVerifyInput struct {
	Name string            `json:"name"`
	Args map[string]string `json:"args,omitempty"`
	// RunID, when set, puts the differences in the run's report too.
	RunID uuid.UUID `json:"run_id,omitempty"`
}

// MigrationVerify compares source and target and fails loudly on any
// difference, listing them.
func (a *Activities) MigrationVerify(ctx context.Context, in MigrationVerifyInput) ([]string, error) {
	m, err := a.migration(in.Name)
	if err != nil {
		return nil, err
	}
	var problems []string
	err = heartbeat.While(ctx, func() error { problems, err = m.verify(ctx, a, in.Args); return err })
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		fs := make([]Finding, len(problems))
		for i, p := range problems {
			fs[i] = Finding{SevVerify, "verification: " + p}
		}
		if err := a.writeReportPart(in.Name, in.RunID, "verify", fs); err != nil {
			return nil, err
		}
		return problems, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s verification failed: %s", in.Name, strings.Join(problems, "; ")), ErrVerifyFailed, nil)
	}
	return nil, nil
}

// MigrationFinishInput closes a run.
type MigrationFinishInput struct {
	RunID    uuid.UUID       `json:"run_id"`
	Outcome  string          `json:"outcome"`
	Verified bool            `json:"verified"`
	Counts   MigrationCounts `json:"counts"`
	Report   []string        `json:"report,omitempty"`
}

// MigrationFinish records how a run ended. It writes the run's whole report
// (every line the pages and the verification reported, most severe first)
// to reportPath, 0600, and records in the run only its summary: the most
// severe lines, how many more there are and where the file is. The
// workflow shows the returned summary.
func (a *Activities) MigrationFinish(ctx context.Context, in MigrationFinishInput) (ReportSummary, error) {
	name := ""
	if r, err := a.DB.MigrationRun.Get(ctx, in.RunID); err == nil {
		name = r.Name
	} else {
		return ReportSummary{}, err
	}
	report := in.Report
	sum, err := a.assembleReport(name, in.RunID)
	if err != nil {
		// The outcome is recorded all the same, with the preview.
		a.Log.Error("cannot write the migration's whole report", "migration", name, "run", in.RunID, "err", err)
		report = append(slices.Clip(report), fmt.Sprintf("the whole report could not be written (%v): only these lines were kept; fix MIGRATION_BACKUP_DIR", err))
		sum = ReportSummary{}
	}
	if sum.Total > 0 {
		report = sum.Lines
	}
	return sum, a.DB.MigrationRun.UpdateOneID(in.RunID).
		SetOutcome(in.Outcome).SetVerified(in.Verified).SetFinishedAt(time.Now()).
		SetCounts(map[string]int64{"read": in.Counts.Read, "changed": in.Counts.Changed, "unchanged": in.Counts.Unchanged, "reported": in.Counts.Reported}).
		SetReport(report).
		Exec(ctx)
}
