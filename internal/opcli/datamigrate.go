// Package opcli runs the operator's commands: schema and data migrations, master key rotation.
package opcli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/migrationrun"
	"github.com/tzurot/tzurot/internal/app"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/migrations"
	"github.com/tzurot/tzurot/workflows"
)

// DataMigrationOptions are `tzurot migrate data start`'s flags.
type DataMigrationOptions struct {
	DryRun    bool
	BatchSize int
	Force     bool
	Dir       string // shapes-import's backup tree
	Detach    bool   // start and return instead of following progress
}

// MigrationNames are the names `tzurot migrate data` takes: the data
// migrations (operator.DataMigrationNames), then the guarded schema changes
// (migrations.Contracts), in their order.
func MigrationNames() []string {
	names := append([]string{}, operator.DataMigrationNames...)
	for _, c := range migrations.Contracts {
		names = append(names, c.Name)
	}
	return names
}

// CheckMigrationName returns an error naming every migration when name is
// none of MigrationNames; it needs no connection, so a typo is caught first.
func CheckMigrationName(name string) error {
	for _, n := range MigrationNames() {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("no data migration is called %s: the migrations are %s", name, strings.Join(MigrationNames(), ", "))
}

// StartDataMigration starts a data migration workflow (or applies a guarded
// contract migration) and follows its progress until it ends; Ctrl-C stops
// following, not the migration.
func StartDataMigration(ctx context.Context, cfg config.Config, name string, opts DataMigrationOptions, out io.Writer, log *slog.Logger) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	if c, ok := migrations.FindContract(name); ok {
		if opts.DryRun {
			return fmt.Errorf("%s is a schema change and has no dry run: `tzurot migrate status` shows whether it is pending", name)
		}
		applied, err := migrations.ApplyContract(ctx, d.DB, c)
		if err != nil {
			return err
		}
		if !applied {
			fmt.Fprintf(out, "%s was already applied\n", name)
			return nil
		}
		fmt.Fprintf(out, "%s applied: the legacy columns are dropped\n", name)
		return nil
	}
	if err := CheckMigrationName(name); err != nil {
		return err
	}
	args := map[string]string{}
	switch name {
	case "shapes-import":
		if opts.Dir == "" {
			return errors.New("shapes-import needs the backup tree: tzurot migrate data start shapes-import DIR")
		}
		// The worker reads the tree, from its own working directory.
		dir, err := filepath.Abs(opts.Dir)
		if err != nil {
			return err
		}
		args["dir"] = dir
	case "assign-ownership":
		if cfg.BotOwnerDiscordID == "" {
			return errors.New("assign-ownership needs BOT_OWNER_DISCORD_ID: set it to the operator's Discord id")
		}
		args["owner"] = cfg.BotOwnerDiscordID
	}
	useSA := ensureSearchAttributes(ctx, d.Temporal, cfg.TemporalNamespace, log)
	summary := name
	if opts.DryRun {
		summary += " (dry run)"
	}
	run, err := d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.DataMigrationID(name),
		TaskQueue:                                cfg.TemporalTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary,
		StaticDetails:                            fmt.Sprintf("Data migration %s, batch size %d. Signals: pause, resume, cancel. Query: progress.", name, opts.BatchSize),
	}, workflows.DataMigrationName, workflows.DataMigrationInput{
		Name: name, DryRun: opts.DryRun, BatchSize: opts.BatchSize, Force: opts.Force, Args: args, SearchAttributes: useSA,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("%s is already running: `tzurot migrate data status %s` shows its progress", name, name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "started %s (workflow %s); watch it at %s\n", name, run.GetID(), workflowURL(cfg, run.GetID()))
	if opts.Detach {
		return nil
	}
	var dc converter.DataConverter
	if codec, err := temporalclient.Codec(cfg); err == nil {
		dc = codec.DataConverter()
	}
	err = follow(ctx, d.Temporal, dc, run, out)
	if err != nil {
		// A failed run returns no state: show what its run record kept, the
		// most severe lines of its report and where the whole report is.
		if last, qerr := d.Ent.MigrationRun.Query().Where(migrationrun.WorkflowID(run.GetID())).
			Order(migrationrun.ByCreatedAt(entsql.OrderDesc())).First(ctx); qerr == nil && last.Outcome != "running" {
			fmt.Fprintf(out, "\n%s: read %d, changed %d, unchanged %d, reported %d\n", last.Outcome,
				last.Counts["read"], last.Counts["changed"], last.Counts["unchanged"], last.Counts["reported"])
			for _, line := range last.Report {
				fmt.Fprintln(out, "  "+line)
			}
		}
	}
	return err
}

// follow prints progress every second until the run ends or ctx is cancelled:
// the workflow's counts, and what a long batch is doing from its last
// heartbeat (say, how many history turns of a big personality are written).
func follow(ctx context.Context, c client.Client, dc converter.DataConverter, run client.WorkflowRun, out io.Writer) error {
	var final workflows.MigrationState
	done, err := followRun(ctx, c, run, out, "migration", &final, func(st workflows.MigrationState) string {
		line := fmt.Sprintf("%-8s read %d · changed %d · unchanged %d · reported %d", phase(st), st.Counts.Read, st.Counts.Changed, st.Counts.Unchanged, st.Counts.Reported)
		if note := batchProgress(ctx, c, dc, run.GetID()); note != "" {
			line += " · " + note
		}
		return line
	})
	if err != nil || !done {
		return err
	}
	printState(out, final)
	return nil
}

// followRun waits for run's result into result, printing its "progress"
// query (rendered by line) every second; done is false when ctx ended first,
// which stops following, not the workflow.
func followRun[S any](ctx context.Context, c client.Client, run client.WorkflowRun, out io.Writer, what string, result any, line func(S) string) (done bool, err error) {
	finished := make(chan error, 1)
	go func() { finished <- run.Get(context.Background(), result) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-finished:
			if err != nil {
				return true, runFailed(what, err)
			}
			return true, nil
		case <-ctx.Done():
			fmt.Fprintf(out, "\nstopped following; the %s goes on in Temporal\n", what)
			return false, nil
		case <-tick.C:
			var st S
			v, err := c.QueryWorkflow(ctx, run.GetID(), "", workflows.QueryProgress)
			if err == nil && v.Get(&st) == nil {
				fmt.Fprint(out, "\r"+line(st))
			}
		}
	}
}

// encodedFailure is the message the SDK leaves on a failure whose sealed
// message (temporalclient's EncodeCommonAttributes) this process's codec
// cannot open.
const encodedFailure = "Encoded failure"

// runFailed is the error of a failed run of what. A failure this process
// cannot read was sealed with another APP_MASTER_KEY than its own: that is
// said instead of the SDK's placeholder, with what to do.
func runFailed(what string, err error) error {
	if strings.Contains(err.Error(), encodedFailure) {
		return fmt.Errorf("%s failed, and why is sealed with the worker's APP_MASTER_KEY, which is not this command's: run it with the worker's APP_MASTER_KEY (and DATABASE_URL), or read the failure in the Web UI through the worker's codec server", what)
	}
	return fmt.Errorf("%s failed: %w", what, err)
}

// batchProgress is the progress note of the running MigrationBatch's last
// heartbeat, or "" when there is none (or it cannot be read).
func batchProgress(ctx context.Context, c client.Client, dc converter.DataConverter, workflowID string) string {
	if dc == nil {
		return ""
	}
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return ""
	}
	for _, pa := range d.GetPendingActivities() {
		if pa.GetActivityType().GetName() != "MigrationBatch" || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var res operator.MigrationBatchResult
		if dc.FromPayloads(pa.GetHeartbeatDetails(), &res) == nil {
			return res.Progress
		}
	}
	return ""
}

func phase(st workflows.MigrationState) string {
	if st.Paused {
		return "paused"
	}
	return st.Phase
}

func printState(out io.Writer, st workflows.MigrationState) {
	fmt.Fprintf(out, "\n%s: read %d, changed %d, unchanged %d, reported %d\n", st.Outcome, st.Counts.Read, st.Counts.Changed, st.Counts.Unchanged, st.Counts.Reported)
	if st.BackupPath != "" {
		fmt.Fprintf(out, "backup: %s\n", st.BackupPath)
	}
	// Since the whole report, Report is its most severe lines and a line
	// saying how many more there are and where the whole report is.
	for _, line := range st.Report {
		fmt.Fprintln(out, "  "+line)
	}
}

// ensureSearchAttributes registers tzurot's search attributes
// (searchattr.Register) when the server lets us; without them the workflow
// simply does not set them.
func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string, log *slog.Logger) bool {
	if _, err := searchattr.Register(ctx, c.OperatorService(), namespace); err != nil {
		log.Warn("cannot register the search attributes; migrations will not set them", "err", err)
		return false
	}
	return true
}

// SignalDataMigration sends pause, resume or cancel.
func SignalDataMigration(ctx context.Context, cfg config.Config, name, signal string, log *slog.Logger) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Temporal.SignalWorkflow(ctx, workflows.DataMigrationID(name), "", signal, nil)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%s is not running", name)
	}
	return err
}

// DataMigrationStatus prints every migration's last run, and live progress
// of running ones.
func DataMigrationStatus(ctx context.Context, cfg config.Config, only string, out io.Writer, log *slog.Logger) error {
	// The runs are in the database; live progress needs Temporal, and the
	// status is still shown when Temporal is down.
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	entc := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db)))
	var tc client.Client
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if c, _, err := temporalclient.Dial(dctx, cfg, log); err == nil {
		tc = c
		defer c.Close()
	} else {
		fmt.Fprintln(out, "(Temporal is not reachable: showing recorded runs only)")
	}
	cancel()
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MIGRATION\tLAST RUN\tOUTCOME\tVERIFIED\tREAD\tCHANGED\tREPORTED\tBACKUP")
	var report []string // of the one migration asked about
	for _, name := range operator.DataMigrationNames {
		if only != "" && name != only {
			continue
		}
		var st workflows.MigrationState
		if tc != nil {
			if v, err := tc.QueryWorkflow(ctx, workflows.DataMigrationID(name), "", workflows.QueryProgress); err == nil && v.Get(&st) == nil && st.Outcome == "" {
				fmt.Fprintf(w, "%s\tnow\t%s\t-\t%d\t%d\t%d\t%s\n", name, phase(st), st.Counts.Read, st.Counts.Changed, st.Counts.Reported, st.BackupPath)
				continue
			}
		}
		last, err := entc.MigrationRun.Query().Where(migrationrun.Name(name)).
			Order(migrationrun.ByCreatedAt(entsql.OrderDesc())).First(ctx)
		if ent.IsNotFound(err) {
			fmt.Fprintf(w, "%s\tnever\t-\t-\t-\t-\t-\t-\n", name)
			continue
		}
		if err != nil {
			return err
		}
		outcome := last.Outcome
		if last.DryRun {
			outcome += " (dry run)"
		}
		backup := ""
		if last.BackupPath != nil {
			backup = *last.BackupPath
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%s\n", name, last.CreatedAt.Local().Format("2006-01-02 15:04"), outcome, last.Verified,
			last.Counts["read"], last.Counts["changed"], last.Counts["reported"], backup)
		if only != "" {
			report = last.Report
		}
	}
	if err := contractRows(ctx, db, w, only); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// The last run's report: its most severe lines, how many more and where.
	for _, line := range report {
		fmt.Fprintln(out, "  "+line)
	}
	return nil
}

// contractRows adds DataMigrationStatus's rows of the guarded schema
// changes (migrations.Contracts): applied when, or never; they have no
// counts or backup.
func contractRows(ctx context.Context, db *sql.DB, w io.Writer, only string) error {
	states, err := migrations.Status(ctx, db)
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.Guarded == "" || (only != "" && st.Guarded != only) {
			continue
		}
		if st.AppliedAt == nil {
			fmt.Fprintf(w, "%s	never	pending	-	-	-	-	-\n", st.Guarded)
			continue
		}
		fmt.Fprintf(w, "%s	%s	applied	-	-	-	-	-\n", st.Guarded, st.AppliedAt.Local().Format("2006-01-02 15:04"))
	}
	return nil
}

// RollbackDataMigration restores the last backup a migration took. Nothing
// changes unless the whole backup is restored; rows written since the backup
// (added, edited or deleted since, other than by the migration itself; see
// operator.Rollback) are lost only with discardNewer (`--discard-newer`),
// else the rollback is refused with their count per table.
func RollbackDataMigration(ctx context.Context, cfg config.Config, name string, discardNewer bool, out io.Writer, log *slog.Logger) error {
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := operator.Rollback(ctx, d.Operator, name, operator.RollbackOptions{DiscardNewer: discardNewer})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s rolled back from %s\n", name, res.BackupPath)
	if len(res.Restored) > 0 {
		fmt.Fprintf(out, "restored rows: %s\n", operator.TableCounts(res.Restored))
	}
	if len(res.Discarded) > 0 {
		fmt.Fprintf(out, "discarded rows written since the backup: %s%s\n", operator.TableCounts(res.Discarded),
			operator.LostDetail(res.Added, res.Edited, res.Deleted, res.Cleared))
	}
	return nil
}
