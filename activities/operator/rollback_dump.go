package operator

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// checkDump refuses a backup that is missing, unreadable, not a pg_dump
// archive, or not holding data for exactly the tables of the migration.
func (a *Activities) checkDump(ctx context.Context, path string, tables map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the backup %s is missing: put the file back, or restore the tables by other means", path)
		}
		return fmt.Errorf("the backup %s cannot be read: %v", path, err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("the backup %s is not a regular file", path)
	}
	cmd, cleanup, err := a.pgCommand(ctx, "", "pg_restore", "--list", path)
	defer cleanup()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("the backup %s is not a readable pg_dump archive (pg_restore --list: %v: %s)", path, err, oneLine(stderr.String()))
	}
	found := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		// "3345; 0 16390 TABLE DATA public personalities postgres"
		f := strings.Fields(line)
		for i := 0; i+3 < len(f); i++ {
			if f[i] == "TABLE" && f[i+1] == "DATA" {
				found[f[i+3]] = true
			}
		}
	}
	for t := range found {
		if !tables[t] {
			return fmt.Errorf("the backup %s holds table %s, which this migration does not write: it is not this migration's backup", path, t)
		}
	}
	for t := range tables {
		if !found[t] {
			return fmt.Errorf("the backup %s holds no data for table %s: it is incomplete", path, t)
		}
	}
	return nil
}

// restoreTable is one table of the backup: its live and temporary names
// (quoted), the backup's columns and the primary key.
type restoreTable struct {
	name, live, temp string
	cols             []string
	pk               []string
}

func (t restoreTable) colList(alias string) string {
	q := make([]string, len(t.cols))
	for i, c := range t.cols {
		q[i] = pq.QuoteIdentifier(c)
		if alias != "" {
			q[i] = alias + "." + q[i]
		}
	}
	return strings.Join(q, ", ")
}

func (t restoreTable) pkMatch(a, b string) string {
	q := make([]string, len(t.pk))
	for i, c := range t.pk {
		c = pq.QuoteIdentifier(c)
		q[i] = a + "." + c + " = " + b + "." + c
	}
	return strings.Join(q, " AND ")
}

func (t restoreTable) setList(from string) string {
	var q []string
	for _, c := range t.cols {
		if slices.Contains(t.pk, c) {
			continue
		}
		c = pq.QuoteIdentifier(c)
		q = append(q, c+" = "+from+"."+c)
	}
	return strings.Join(q, ", ")
}

var copyHeader = regexp.MustCompile(`^COPY (.+) \((.*)\) FROM stdin;$`)

// loadDump streams the dump through `pg_restore --data-only --file=-` into
// temporary tables (dropped at commit) and returns them. pg_restore needs no
// database connection for this. Only the statements a data-only restore
// emits are accepted (SET, set_config, setval, COPY); anything else fails.
func (a *Activities) loadDump(ctx context.Context, tx *sql.Tx, path string, tables map[string]bool) (map[string]*restoreTable, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, cleanup, err := a.pgCommand(ctx, "", "pg_restore", "--data-only", "--file=-", path)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run pg_restore (is the PostgreSQL client installed and on PATH?): %w", err)
	}
	loaded, err := a.readRestoreSQL(ctx, tx, path, stdout, tables)
	if err != nil {
		// pg_restore's own complaint (a cut or corrupt archive) says more
		// than where its output stopped; one still running is stopped.
		cancel()
		_, _ = io.Copy(io.Discard, stdout)
		if werr := cmd.Wait(); werr != nil && stderr.Len() > 0 {
			return nil, fmt.Errorf("the backup %s cannot be read whole (pg_restore: %v: %s); %v", path, werr, oneLine(stderr.String()), err)
		}
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("the backup %s cannot be read whole (pg_restore: %v: %s)", path, err, oneLine(stderr.String()))
	}
	for t := range tables {
		if loaded[t] == nil {
			return nil, fmt.Errorf("the backup %s holds no data for table %s", path, t)
		}
	}
	return loaded, nil
}

// readRestoreSQL reads pg_restore's script from stdout, loading its COPY
// blocks into temporary tables.
func (a *Activities) readRestoreSQL(ctx context.Context, tx *sql.Tx, path string, stdout io.Reader, tables map[string]bool) (map[string]*restoreTable, error) {
	loaded := map[string]*restoreTable{}
	r := bufio.NewReaderSize(stdout, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read pg_restore's output: %w", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" || strings.HasPrefix(line, "--"):
		case strings.HasPrefix(line, `\restrict `) || strings.HasPrefix(line, `\unrestrict `):
			// psql meta-commands of pg_dump ≥ 17.6 guarding the script.
		case strings.HasPrefix(line, "SET client_encoding = "):
			if enc := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(line, "SET client_encoding = "), ";"), "'"); !strings.EqualFold(enc, "UTF8") {
				return nil, fmt.Errorf("the backup %s is in encoding %s; only UTF8 backups can be restored", path, enc)
			}
		case strings.HasPrefix(line, "SET ") || strings.HasPrefix(line, "SELECT pg_catalog.set_config("):
			// Session settings of the script; ours are the same or irrelevant.
		case strings.HasPrefix(line, "SELECT pg_catalog.setval("):
			// Sequences only ever move forward here: ours are at least as
			// far as the backup's, and a lower value would hand out ids
			// that exist.
		case strings.HasPrefix(line, "COPY "):
			t, err := a.loadCopy(ctx, tx, line, r, tables)
			if err != nil {
				return nil, err
			}
			if loaded[t.name] != nil {
				return nil, fmt.Errorf("the backup %s holds table %s twice", path, t.name)
			}
			loaded[t.name] = t
		default:
			return nil, fmt.Errorf("the backup %s holds a statement a data-only backup does not: %.60q", path, line)
		}
	}
	return loaded, nil
}

// loadCopy reads one COPY block (header already read) into a new temporary
// table shaped like the live one.
func (a *Activities) loadCopy(ctx context.Context, tx *sql.Tx, header string, r *bufio.Reader, tables map[string]bool) (*restoreTable, error) {
	mm := copyHeader.FindStringSubmatch(header)
	if mm == nil {
		return nil, fmt.Errorf("the backup has a COPY line of an unknown shape: %.60q", header)
	}
	qn, err := splitIdents(mm[1], '.')
	if err != nil || len(qn) == 0 || len(qn) > 2 {
		return nil, fmt.Errorf("the backup names a table oddly: %.60q", mm[1])
	}
	cols, err := splitIdents(mm[2], ',')
	if err != nil || len(cols) == 0 {
		return nil, fmt.Errorf("the backup lists columns oddly: %.60q", mm[2])
	}
	name := qn[len(qn)-1]
	if !tables[name] {
		return nil, fmt.Errorf("the backup holds table %s, which this migration does not write", name)
	}
	t := &restoreTable{name: name, cols: cols, temp: pq.QuoteIdentifier("tzurot_restore_" + name)}
	t.live = pq.QuoteIdentifier(name)
	if len(qn) == 2 {
		t.live = pq.QuoteIdentifier(qn[0]) + "." + t.live
	}
	if err := tx.QueryRowContext(ctx, `SELECT array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))::text[]
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = $1::regclass AND i.indisprimary`, t.live).Scan(pq.Array(&t.pk)); err != nil {
		return nil, fmt.Errorf("find the primary key of %s: %w", name, err)
	}
	if len(t.pk) == 0 {
		return nil, fmt.Errorf("table %s has no primary key: rows cannot be matched with the backup's", name)
	}
	for _, c := range t.pk {
		if !slices.Contains(cols, c) {
			return nil, fmt.Errorf("the backup of %s lacks its primary key column %s", name, c)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TEMPORARY TABLE %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DROP`, t.temp, t.live)); err != nil {
		return nil, fmt.Errorf("stage the backup of %s: %w", name, err)
	}
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf(`COPY %s (%s) FROM STDIN`, t.temp, t.colList("")))
	if err != nil {
		return nil, fmt.Errorf("the backup's columns of %s do not fit the table (did a later migration drop one?): %w", name, err)
	}
	defer stmt.Close()
	vals := make([]any, len(cols))
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("the backup's data of %s ends early, at row %d", name, n)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == `\.` {
			break
		}
		fields := strings.Split(line, "\t")
		if len(fields) != len(cols) {
			return nil, fmt.Errorf("the backup's row %d of %s has %d fields, not %d", n, name, len(fields), len(cols))
		}
		for i, f := range fields {
			if f == `\N` {
				vals[i] = nil
			} else {
				vals[i] = copyUnescape(f)
			}
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return nil, fmt.Errorf("load the backup's row %d of %s: %w", n, name, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return nil, fmt.Errorf("load the backup of %s: %w", name, err)
	}
	return t, nil
}

// copyUnescape decodes one field of COPY's text format: backslash escapes
// \b \f \n \r \t \v, octal \ooo, hex \xhh, and \c for any other c.
// https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2
func copyUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			j := i + 1
			for j < len(s) && j < i+3 && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('x')
				continue
			}
			v, _ := strconv.ParseUint(s[i+1:j], 16, 8)
			b.WriteByte(byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			b.WriteByte(byte(v))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// splitIdents splits a list of SQL identifiers, bare or "quoted" (with ""
// for a quote), at sep.
func splitIdents(s string, sep byte) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var id strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for {
				if i >= len(s) {
					return nil, errors.New("unterminated quoted identifier")
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						id.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				id.WriteByte(s[i])
				i++
			}
		} else {
			for i < len(s) && s[i] != sep && s[i] != ' ' {
				id.WriteByte(s[i])
				i++
			}
		}
		if id.Len() == 0 {
			return nil, errors.New("empty identifier")
		}
		out = append(out, id.String())
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		if s[i] != sep {
			return nil, fmt.Errorf("unexpected %q", s[i])
		}
		i++
	}
}

// oneLine joins a tool's stderr into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
