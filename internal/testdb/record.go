package testdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// Statement is one statement a client sent, as the driver saw it: the SQL
// text with $n placeholders, the arguments after database/sql converted
// them, and how long the driver call took (for a query, until its first
// answer; Recorder.Total also counts reading the rows).
type Statement struct {
	SQL  string
	Args []any
	Took time.Duration
}

// Recorder records the statements sent through a RecordingDB pool while it
// is on. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	on    bool
	stmts []Statement
	total time.Duration
}

// Start forgets what was recorded and starts recording.
func (r *Recorder) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.stmts, r.total = true, nil, 0
}

// Stop stops recording and returns the statements in the order they were sent.
func (r *Recorder) Stop() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.stmts
}

// Total is the time spent in the driver since Start (transaction begin and
// commit included): the database time of the work recorded.
func (r *Recorder) Total() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

func (r *Recorder) add(query string, args []driver.NamedValue, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	r.total += took
	if query == "" {
		return
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	r.stmts = append(r.stmts, Statement{SQL: query, Args: vals, Took: took})
}

// RecordingDB opens a pool on the database at url (lib/pq underneath, as in
// production) whose every statement is recorded while rec is on. It is closed
// when tb ends. Statements prepared explicitly (db.Prepare) are not recorded:
// ent and the activities' SQL never prepare.
func RecordingDB(tb testing.TB, url string) (*sql.DB, *Recorder) {
	tb.Helper()
	c, err := pq.NewConnector(url)
	if err != nil {
		tb.Fatal(err)
	}
	rec := &Recorder{}
	db := sql.OpenDB(recordingConnector{Connector: c, rec: rec})
	db.SetMaxIdleConns(25)
	tb.Cleanup(func() { db.Close() })
	return db, rec
}

type recordingConnector struct {
	*pq.Connector
	rec *Recorder
}

func (c recordingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingConn{conn: conn, rec: c.rec}, nil
}

// pqConn is what lib/pq's connection implements and database/sql uses.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
}

// recordingConn passes everything to lib/pq's connection, timing and
// recording queries, executions and transaction boundaries.
type recordingConn struct {
	conn driver.Conn
	rec  *Recorder
}

func (c *recordingConn) pq() pqConn { return c.conn.(pqConn) }

func (c *recordingConn) Prepare(q string) (driver.Stmt, error) { return c.conn.Prepare(q) }
func (c *recordingConn) Close() error                          { return c.conn.Close() }

//nolint:staticcheck // database/sql uses BeginTx; Begin is the required interface method
func (c *recordingConn) Begin() (driver.Tx, error) { return c.conn.Begin() }

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	start := time.Now()
	tx, err := c.pq().BeginTx(ctx, opts)
	c.rec.add("", nil, time.Since(start))
	if err != nil {
		return nil, err
	}
	return recordingTx{tx: tx, rec: c.rec}, nil
}

func (c *recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.pq().PrepareContext(ctx, q)
}

func (c *recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	start := time.Now()
	rows, err := c.pq().QueryContext(ctx, q, args)
	c.rec.add(q, args, time.Since(start))
	if err != nil {
		return nil, err
	}
	return recordingRows{Rows: rows, rec: c.rec}, nil
}

// recordingRows adds the time spent reading rows to the recorder's total.
type recordingRows struct {
	driver.Rows
	rec *Recorder
}

func (r recordingRows) Next(dest []driver.Value) error {
	start := time.Now()
	err := r.Rows.Next(dest)
	r.rec.add("", nil, time.Since(start))
	return err
}

func (c *recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	res, err := c.pq().ExecContext(ctx, q, args)
	c.rec.add(q, args, time.Since(start))
	return res, err
}

func (c *recordingConn) Ping(ctx context.Context) error { return c.pq().Ping(ctx) }
func (c *recordingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.pq().CheckNamedValue(nv)
}
func (c *recordingConn) ResetSession(ctx context.Context) error { return c.pq().ResetSession(ctx) }
func (c *recordingConn) IsValid() bool                          { return c.pq().IsValid() }

type recordingTx struct {
	tx  driver.Tx
	rec *Recorder
}

func (t recordingTx) Commit() error {
	start := time.Now()
	err := t.tx.Commit()
	t.rec.add("", nil, time.Since(start))
	return err
}

func (t recordingTx) Rollback() error {
	start := time.Now()
	err := t.tx.Rollback()
	t.rec.add("", nil, time.Since(start))
	return err
}

// IsWrite reports whether st changes data (INSERT, UPDATE, DELETE, MERGE),
// which EXPLAIN ANALYZE would do again.
func (st Statement) IsWrite() bool {
	verb, _, _ := strings.Cut(strings.TrimSpace(st.SQL), " ")
	switch strings.ToUpper(verb) {
	case "INSERT", "UPDATE", "DELETE", "MERGE":
		return true
	}
	return false
}
