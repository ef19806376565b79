package testdb

import (
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The clusters a crashed test binary left are removed by the next one;
// those of a live binary, and fresh owner-less ones, are kept.
func TestReapStaleRemovesOnlyDeadOwnersClusters(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := osexec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-deadOrphanAge - time.Minute)
	for _, c := range []struct {
		name  string
		owner int // 0: no owner file
		mtime time.Time
	}{
		{"dead-owner", gone.Process.Pid, time.Now()},
		{"live-owner", os.Getpid(), old},
		{"ownerless-old", 0, old},
		{"ownerless-fresh", 0, time.Now()},
	} {
		dir := filepath.Join(tmp, clusterPrefix+c.name)
		if err := os.MkdirAll(filepath.Join(dir, "pg"), 0o700); err != nil {
			t.Fatal(err)
		}
		if c.owner != 0 {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(c.owner)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(dir, c.mtime, c.mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, "someone-elses"), 0o700); err != nil {
		t.Fatal(err)
	}
	reapStale(context.Background())
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"someone-elses", clusterPrefix + "live-owner", clusterPrefix + "ownerless-fresh"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
