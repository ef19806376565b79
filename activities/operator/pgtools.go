package operator

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// pgEnv turns a database URL or key=value DSN into the libpq environment of a
// child process (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, …), so that no
// part of the connection string — above all the password — is on the child's
// command line, where `ps` shows it to every user of the machine.
//
// The password goes to a pgpass file (mode 0600, in a fresh 0700 folder) named
// by PGPASSFILE: https://www.postgresql.org/docs/current/libpq-pgpass.html.
// PGPASSWORD is not used; PostgreSQL's documentation advises against it
// (https://www.postgresql.org/docs/current/libpq-envars.html). The caller runs
// cleanup when the child has ended; it removes the pgpass file.
//
// The string is parsed by lib/pq, the driver the application itself connects
// with, so pg_dump reaches the same server: pq's defaults (host localhost,
// sslmode require) are passed on explicitly where libpq's differ.
func pgEnv(dsn string) (env []string, cleanup func(), err error) {
	cleanup = func() {}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		// pq's message may quote the string; never repeat it.
		return nil, cleanup, fmt.Errorf("DATABASE_URL cannot be parsed as a PostgreSQL URL or key=value string: fix its syntax")
	}
	set := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	hosts, addrs, ports := []string{cfg.Host}, []string{""}, []string{strconv.Itoa(int(cfg.Port))}
	if cfg.Hostaddr.IsValid() {
		addrs[0] = cfg.Hostaddr.String()
	}
	for _, m := range cfg.Multi {
		hosts, ports = append(hosts, m.Host), append(ports, strconv.Itoa(int(m.Port)))
		a := ""
		if m.Hostaddr.IsValid() {
			a = m.Hostaddr.String()
		}
		addrs = append(addrs, a)
	}
	set("PGHOST", strings.Join(hosts, ","))
	if strings.Join(addrs, "") != "" {
		set("PGHOSTADDR", strings.Join(addrs, ","))
	}
	set("PGPORT", strings.Join(ports, ","))
	set("PGUSER", cfg.User)
	set("PGDATABASE", cfg.Database)
	sslmode := string(cfg.SSLMode)
	if sslmode == "" {
		sslmode = "require" // pq's default; libpq's would be prefer
	}
	set("PGSSLMODE", sslmode)
	set("PGSSLCERT", cfg.SSLCert)
	set("PGSSLKEY", cfg.SSLKey)
	set("PGSSLROOTCERT", cfg.SSLRootCert)
	if !cfg.SSLSNI {
		set("PGSSLSNI", "0")
	}
	set("PGKRBSRVNAME", cfg.KrbSrvname)
	set("PGTARGETSESSIONATTRS", string(cfg.TargetSessionAttrs))
	set("PGAPPNAME", cfg.ApplicationName)
	if cfg.ConnectTimeout > 0 {
		set("PGCONNECT_TIMEOUT", strconv.Itoa(int(cfg.ConnectTimeout.Seconds())))
	}
	// Run-time parameters given in the URL (e.g. search_path) go through
	// PGOPTIONS as -c settings, as libpq expects them.
	opts := []string{}
	if cfg.Options != "" {
		opts = append(opts, cfg.Options)
	}
	for k, v := range cfg.Runtime {
		opts = append(opts, "-c "+k+"="+strings.NewReplacer(`\`, `\\`, " ", `\ `).Replace(v))
	}
	set("PGOPTIONS", strings.Join(opts, " "))
	switch {
	case cfg.Password != "":
		dir, err := os.MkdirTemp("", "tzurot-pgpass-*") // created 0700
		if err != nil {
			return nil, cleanup, fmt.Errorf("create a folder for the pgpass file: %w", err)
		}
		cleanup = func() { _ = os.RemoveAll(dir) }
		path := filepath.Join(dir, "pgpass")
		// hostname:port:database:username:password, with : and \ escaped.
		esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace
		line := "*:*:*:*:" + esc(cfg.Password) + "\n"
		if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("write the pgpass file: %w", err)
		}
		set("PGPASSFILE", path)
	case cfg.Passfile != "":
		set("PGPASSFILE", cfg.Passfile)
	}
	return env, cleanup, nil
}

// pgCommand builds the command for a PostgreSQL client tool (pg_dump,
// pg_restore) from a.PGBinDir (or PATH), connected to dsn through the
// environment only (see pgEnv); an empty dsn connects nowhere. Any PG*
// variable of our own environment is left out so the child uses exactly the
// configured database. The caller runs cleanup after the command ends.
func (a *Activities) pgCommand(ctx context.Context, dsn, tool string, args ...string) (*exec.Cmd, func(), error) {
	bin := tool
	if a.PGBinDir != "" {
		bin = filepath.Join(a.PGBinDir, tool)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cleanup := func() {}
	if dsn != "" {
		pg, c, err := pgEnv(dsn)
		if err != nil {
			return nil, c, err
		}
		env, cleanup = append(env, pg...), c
	}
	if dsn != "" {
		args = append([]string{"--no-password"}, args...) // never prompt
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	return cmd, cleanup, nil
}
