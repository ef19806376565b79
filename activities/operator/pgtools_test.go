package operator_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/operator"
)

// The connection reaches pg_dump through the environment, the password
// through a 0600 pgpass file, for every form of connection string: URLs with
// escaped characters, key=value strings with quotes, several hosts.
func TestPGEnvCarriesNoPasswordInTheClear(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, password string
		want                map[string]string
	}{
		{"url", "postgres://tz:s3cr%3At%5Cx@db.example:6432/tzurot?sslmode=verify-full&application_name=tzurot",
			`s3cr:t\x`, map[string]string{"PGHOST": "db.example", "PGPORT": "6432", "PGUSER": "tz", "PGDATABASE": "tzurot", "PGSSLMODE": "verify-full", "PGAPPNAME": "tzurot"}},
		{"url without sslmode takes pq's default", "postgresql://tz:pw@localhost/tzurot",
			"pw", map[string]string{"PGHOST": "localhost", "PGPORT": "5432", "PGSSLMODE": "require"}},
		{"key=value", `host=10.0.0.5 port=5433 user=tz password='it\'s a secret' dbname=tz sslmode=disable`,
			"it's a secret", map[string]string{"PGHOST": "10.0.0.5", "PGPORT": "5433", "PGUSER": "tz", "PGDATABASE": "tz", "PGSSLMODE": "disable"}},
		{"several hosts", "postgres://tz:pw@/tz?host=a,b&port=5432,5433&sslmode=disable&target_session_attrs=read-write",
			"pw", map[string]string{"PGHOST": "a,b", "PGPORT": "5432,5433", "PGTARGETSESSIONATTRS": "read-write"}},
		{"run-time parameters", "postgres://tz:pw@h/tz?sslmode=disable&search_path=app",
			"pw", map[string]string{"PGOPTIONS": "-c search_path=app"}},
		{"no password", "postgres://tz@h/tz?sslmode=disable", "", map[string]string{"PGUSER": "tz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, cleanup, err := operator.PGEnv(tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, kv := range env {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
				if tc.password != "" && strings.Contains(v, tc.password) {
					t.Errorf("%s carries the password: %q", k, v)
				}
			}
			if _, ok := got["PGPASSWORD"]; ok {
				t.Error("PGPASSWORD is set")
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			pf := got["PGPASSFILE"]
			if tc.password == "" {
				if pf != "" {
					t.Errorf("PGPASSFILE %q without a password", pf)
				}
				cleanup()
				return
			}
			fi, err := os.Stat(pf)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("pgpass file mode %04o, want 0600", fi.Mode().Perm())
			}
			if di, _ := os.Stat(strings.TrimSuffix(pf, "/pgpass")); di.Mode().Perm() != 0o700 {
				t.Errorf("pgpass folder mode %04o, want 0700", di.Mode().Perm())
			}
			b, _ := os.ReadFile(pf)
			esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(tc.password)
			if string(b) != "*:*:*:*:"+esc+"\n" {
				t.Errorf("pgpass file %q", b)
			}
			cleanup()
			if _, err := os.Stat(pf); !os.IsNotExist(err) {
				t.Errorf("pgpass file left behind: %v", err)
			}
		})
	}
	if _, _, err := operator.PGEnv("postgres://tz:hunter2@[::1"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %v", err)
	}
}

// COPY's text format, as pg_restore writes it.
func TestCopyUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:            "plain",
		`a\tb\nc\\d\re`:    "a\tb\nc\\d\re",
		`\b\f\v`:           "\b\f\v",
		`\101\x42\x4a\7`:   "ABJ\a",
		`\x`:               "x",
		`\N in the middle`: "N in the middle",
		`{"k":"v\\\\n"}`:   `{"k":"v\\n"}`,
		`ünïcödé \u00e9`:   `ünïcödé u00e9`,
		`trailing\`:        `trailing\`,
	} {
		if got := operator.CopyUnescape(in); got != want {
			t.Errorf("CopyUnescape(%q) = %q, want %q", in, got, want)
		}
	}
	got, err := operator.SplitIdents(`id, "timestamp", "we""ird, one", name`, ',')
	if err != nil || strings.Join(got, "|") != `id|timestamp|we"ird, one|name` {
		t.Errorf("SplitIdents = %q, %v", got, err)
	}
	if got, err := operator.SplitIdents(`public."My.Table"`, '.'); err != nil || len(got) != 2 || got[1] != "My.Table" {
		t.Errorf("SplitIdents = %q, %v", got, err)
	}
	if _, err := operator.SplitIdents(`"open`, ','); err == nil {
		t.Error("unterminated identifier accepted")
	}
}
