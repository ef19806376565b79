package operator

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// A page retried after a crash replaces its own part, so no line is
// counted twice; the whole report is most severe first, 0600, and the
// summary says how many more lines there are and where the file is, also
// when MigrationFinish is retried after the parts were merged.
func TestReportPartsMergeMostSevereFirst(t *testing.T) {
	a := &Activities{BackupDir: t.TempDir()}
	run := uuid.New()
	var page []Finding
	for i := range 40 {
		page = append(page, Finding{SevCollision, fmt.Sprintf("c%02d", i)}, Finding{SevRefused, fmt.Sprintf("r%02d", i)})
	}
	for range 2 { // the same page twice: a retry
		if err := a.writeReportPart("x", run, "page:", page); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		part string
		f    Finding
	}{{"page:r39", Finding{SevUnreadable, "u0"}}, {"verify", Finding{SevVerify, "v0"}}} {
		if err := a.writeReportPart("x", run, p.part, []Finding{p.f}); err != nil {
			t.Fatal(err)
		}
	}

	sum, err := a.assembleReport("x", run)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 82 || len(sum.Lines) != reportSummaryLines+1 || sum.Lines[0] != "[verification] v0" ||
		sum.Lines[1] != "[unreadable files] u0" || sum.Lines[2] != "[refused values] r00" {
		t.Fatalf("summary %+v", sum)
	}
	trailer := sum.Lines[len(sum.Lines)-1]
	want := fmt.Sprintf("… and 52 more not shown (82 in all: 1 verification, 1 unreadable files, 40 refused values, 40 collisions); the whole report is %s", sum.Path)
	if trailer != want {
		t.Errorf("trailer %q\nwant    %q", trailer, want)
	}
	fi, err := os.Stat(sum.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("report file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(sum.Path)
	if n := strings.Count(string(data), "\n["); n != 82 || strings.Index(string(data), "c39") < strings.Index(string(data), "r39") {
		t.Errorf("report file (%d lines):\n%s", n, data)
	}
	if _, err := os.Stat(a.reportParts("x", run)); !os.IsNotExist(err) {
		t.Errorf("parts left behind: %v", err)
	}
	again, err := a.assembleReport("x", run)
	if err != nil || again.Total != sum.Total || strings.Join(again.Lines, "\n") != strings.Join(sum.Lines, "\n") {
		t.Errorf("retried finish: %+v %v", again, err)
	}

	// Nothing reported: no file, no summary.
	none, err := a.assembleReport("x", uuid.New())
	if err != nil || none.Total != 0 || none.Path != "" {
		t.Errorf("empty report: %+v %v", none, err)
	}
}
