package operator

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tzurot/tzurot/internal/heartbeat"
)

// Backups hold every row of the tables a migration writes (users' prompts,
// conversation history), so they are readable by their owner only: the folder
// 0700, each file 0600, created with those modes rather than tightened after.
const (
	backupDirMode  os.FileMode = 0o700
	backupFileMode os.FileMode = 0o600
)

// privateDir returns the absolute path of the backup folder, creating it 0700.
// An existing folder that others may read or enter is tightened to 0700 (and
// any backup file in it that others may read to 0600), with a warning; when
// that is not allowed (another user owns it), the backup is refused.
func (a *Activities) privateDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("backup folder %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, backupDirMode); err != nil {
		return "", fmt.Errorf("create the backup folder %s: %w: set MIGRATION_BACKUP_DIR to a folder the worker can create", abs, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("backup folder %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("backup folder %s is not a folder: set MIGRATION_BACKUP_DIR to a folder", abs)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(abs, backupDirMode); err != nil {
			return "", fmt.Errorf("backup folder %s is open to other users (mode %04o) and cannot be tightened (%v): run chmod 700 %s, or set MIGRATION_BACKUP_DIR to a private folder",
				abs, fi.Mode().Perm(), err, abs)
		}
		a.Log.Warn("backup folder was open to other users; tightened to 0700", "dir", abs, "was", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("read the backup folder %s: %w", abs, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".dump") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		p := filepath.Join(abs, e.Name())
		if err := os.Chmod(p, backupFileMode); err != nil {
			return "", fmt.Errorf("backup %s is readable by other users (mode %04o) and cannot be tightened (%v): run chmod 600 %s", p, info.Mode().Perm(), err, p)
		}
		a.Log.Warn("backup was readable by other users; tightened to 0600", "path", p)
	}
	return abs, nil
}

// dump writes a custom-format, data-only pg_dump of tables to path (mode
// 0600). pg_dump writes to a file we created 0600 (path + ".partial", renamed
// when the dump is complete, so a failed dump never leaves a file that looks
// like a backup), and connects through the environment, never its argv.
func (a *Activities) dump(ctx context.Context, path string, tables []string) error {
	partial := path + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, backupFileMode)
	if err != nil {
		return fmt.Errorf("create the backup file: %w", err)
	}
	defer os.Remove(partial) //nolint:errcheck // gone after the rename
	defer f.Close()          //nolint:errcheck // closed and checked below
	// A file left by an earlier attempt keeps its old mode through O_CREATE.
	if err := f.Chmod(backupFileMode); err != nil {
		return fmt.Errorf("make the backup file private: %w", err)
	}
	args := []string{"--format=custom", "--data-only"}
	for _, t := range tables {
		args = append(args, "--table="+t)
	}
	cmd, cleanup, err := a.pgCommand(ctx, a.DatabaseURL, "pg_dump", args...)
	defer cleanup()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := heartbeat.While(ctx, cmd.Run); err != nil {
		return fmt.Errorf("pg_dump failed (is the PostgreSQL client installed and on PATH?): %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write the backup file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the backup file: %w", err)
	}
	if err := os.Rename(partial, path); err != nil {
		return fmt.Errorf("move the backup into place: %w", err)
	}
	return nil
}
