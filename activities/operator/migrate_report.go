package operator

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/internal/shapes"
)

// Severity ranks a report line; lower is more severe. A report lists the
// most severe first.
type Severity int

// Severities of report lines, most severe first.
const (
	// SevVerify: verification found the target differs from the source.
	SevVerify Severity = iota
	// SevUnreadable: a whole source file could not be used.
	SevUnreadable
	// SevRefused: a value was refused or converted (the default).
	SevRefused
	// SevCollision: two claimants of one name or alias; one kept it, or
	// (for a name already in the database) the import left it alone.
	SevCollision
)

var severityNames = map[Severity]string{
	SevVerify: "verification", SevUnreadable: "unreadable files", SevRefused: "refused values", SevCollision: "collisions",
}

func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity %d", int(s))
}

// Finding is one line of a migration's report.
type Finding struct {
	Severity Severity `json:"s"`
	Text     string   `json:"t"`
}

// problemFinding maps a backup problem onto the report's severities.
func problemFinding(p shapes.Problem) Finding {
	sev := SevRefused
	switch p.Severity() {
	case shapes.Unreadable:
		sev = SevUnreadable
	case shapes.Collision:
		sev = SevCollision
	}
	return Finding{sev, p.String()}
}

// reportSummaryLines is how many of the most severe lines the run record,
// the workflow's result and the CLI show; the report file has them all.
const reportSummaryLines = 30

// reportPath is where a run's whole report is written: beside its backup,
// in MIGRATION_BACKUP_DIR, readable by its owner only.
func (a *Activities) reportPath(name string, runID uuid.UUID) string {
	dir, _ := filepath.Abs(a.BackupDir)
	return filepath.Join(dir, fmt.Sprintf("%s-%s.report.txt", name, runID))
}

// reportParts is the directory of a running run's report parts, one file
// per page, merged into reportPath when the run finishes.
func (a *Activities) reportParts(name string, runID uuid.UUID) string {
	return strings.TrimSuffix(a.reportPath(name, runID), ".txt") + ".parts"
}

// writeReportPart stores the findings of the page that started at key. The
// part is named by the key, so a page retried after a crash replaces its
// own part instead of adding its lines twice; it is written to a temporary
// file and renamed, so a part is whole or absent.
func (a *Activities) writeReportPart(name string, runID uuid.UUID, key string, fs []Finding) error {
	if len(fs) == 0 || runID == uuid.Nil {
		return nil
	}
	dir := a.reportParts(name, runID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the report directory %s: %w", dir, err)
	}
	sum := sha256.Sum256([]byte(key))
	path := filepath.Join(dir, hex.EncodeToString(sum[:12])+".jsonl")
	tmp, err := os.CreateTemp(dir, ".part-*")
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, f := range fs {
		if err := enc.Encode(f); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// ReportSummary is what MigrationFinish tells the workflow about the whole
// report.
type ReportSummary struct {
	// Path is the whole report (0600, in MIGRATION_BACKUP_DIR); "" when the
	// run reported nothing.
	Path string `json:"path,omitempty"`
	// Total counts the report's lines; ByKind counts them by severity name.
	Total  int64            `json:"total"`
	ByKind map[string]int64 `json:"by_kind,omitempty"`
	// Lines are the most severe lines (at most reportSummaryLines), then one
	// line saying how many more there are and where the whole report is.
	Lines []string `json:"lines,omitempty"`
}

// assembleReport merges a run's parts into its report file, most severe
// first (then by text, so that a file's lines stay together), every line
// once, and removes the parts. A retry after the parts are gone reads the
// report file back.
func (a *Activities) assembleReport(name string, runID uuid.UUID) (ReportSummary, error) {
	path := a.reportPath(name, runID)
	dir := a.reportParts(name, runID)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return readReportSummary(path)
	}
	if err != nil {
		return ReportSummary{}, fmt.Errorf("read the report parts: %w", err)
	}
	seen := map[Finding]bool{}
	var all []Finding
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return ReportSummary{}, fmt.Errorf("read the report parts: %w", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var f Finding
			if line == "" || json.Unmarshal([]byte(line), &f) != nil || seen[f] {
				continue
			}
			seen[f] = true
			all = append(all, f)
		}
	}
	slices.SortFunc(all, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Severity, y.Severity), shapes.NaturalCompare(x.Text, y.Text))
	})
	var b strings.Builder
	fmt.Fprintf(&b, "# %s run %s: %d problems, most severe first\n", name, runID, len(all))
	for i, f := range all {
		if i == 0 || all[i-1].Severity != f.Severity {
			fmt.Fprintf(&b, "\n## %s\n", f.Severity)
		}
		fmt.Fprintf(&b, "[%s] %s\n", f.Severity, f.Text)
	}
	if err := writePrivate(path, b.String()); err != nil {
		return ReportSummary{}, err
	}
	_ = os.RemoveAll(dir)
	return summarise(path, all), nil
}

// readReportSummary rebuilds the summary from a written report file.
func readReportSummary(path string) (ReportSummary, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ReportSummary{}, nil // nothing was reported
	}
	if err != nil {
		return ReportSummary{}, err
	}
	byName := map[string]Severity{}
	for s, n := range severityNames {
		byName[n] = s
	}
	var all []Finding
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "[") {
			continue
		}
		kind, text, ok := strings.Cut(line[1:], "] ")
		if ok {
			all = append(all, Finding{byName[kind], text})
		}
	}
	return summarise(path, all), nil
}

func summarise(path string, all []Finding) ReportSummary {
	if len(all) == 0 {
		return ReportSummary{}
	}
	s := ReportSummary{Path: path, Total: int64(len(all)), ByKind: map[string]int64{}}
	for _, f := range all {
		s.ByKind[f.Severity.String()]++
	}
	for _, f := range all[:min(len(all), reportSummaryLines)] {
		s.Lines = append(s.Lines, "["+f.Severity.String()+"] "+f.Text)
	}
	var kinds []string
	for sev := SevVerify; sev <= SevCollision; sev++ {
		if n := s.ByKind[sev.String()]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, sev))
		}
	}
	more := len(all) - len(s.Lines)
	if more > 0 {
		s.Lines = append(s.Lines, fmt.Sprintf("… and %d more not shown (%d in all: %s); the whole report is %s", more, len(all), strings.Join(kinds, ", "), path))
	} else {
		s.Lines = append(s.Lines, fmt.Sprintf("(%d in all: %s); the whole report is %s", len(all), strings.Join(kinds, ", "), path))
	}
	return s
}

// writePrivate writes a file readable by its owner only, atomically.
func writePrivate(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return fmt.Errorf("write the report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write the report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the report %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// progressNote is how a page tells MigrationBatch what it is doing inside a
// long page, for the heartbeat (and so the Web UI and the CLI).
type progressNote func(note string)

func (p progressNote) say(format string, args ...any) {
	if p != nil {
		p(fmt.Sprintf(format, args...))
	}
}
