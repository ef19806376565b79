package testdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// PlanNode is one node of a PostgreSQL plan, as EXPLAIN (FORMAT JSON) gives it
// (https://www.postgresql.org/docs/current/sql-explain.html); the Actual and
// Removed fields are set only by EXPLAIN ANALYZE.
type PlanNode struct {
	NodeType       string     `json:"Node Type"`
	Relation       string     `json:"Relation Name"`
	Index          string     `json:"Index Name"`
	PlanRows       float64    `json:"Plan Rows"`
	ActualRows     float64    `json:"Actual Rows"`
	ActualLoops    float64    `json:"Actual Loops"`
	RemovedFilter  float64    `json:"Rows Removed by Filter"`
	RemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	Plans          []PlanNode `json:"Plans"`
}

// RowsRead is how many rows the node went through in all its loops: the
// ones it passed on and the ones its filter or recheck threw away.
func (n PlanNode) RowsRead() float64 {
	loops := n.ActualLoops
	if loops == 0 {
		loops = 1
	}
	return (n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * loops
}

// Querier is a *sql.DB or a *sql.Tx.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Explain plans st with its recorded arguments, as the server plans it when
// the client sends it. A read is executed (EXPLAIN ANALYZE), so the actual row
// counts are known: on a *sql.DB in a transaction rolled back at once, on a
// *sql.Tx in that transaction, which the caller rolls back. A write is only
// planned, because running it again would change data or collide with the
// rows it wrote.
func Explain(ctx context.Context, q Querier, st Statement) (PlanNode, error) {
	if db, ok := q.(*sql.DB); ok {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return PlanNode{}, err
		}
		defer tx.Rollback() //nolint:errcheck // only ever rolled back
		q = tx
	}
	opts := "ANALYZE, FORMAT JSON"
	if st.IsWrite() {
		opts = "FORMAT JSON"
	}
	var raw []byte
	if err := q.QueryRowContext(ctx, "EXPLAIN ("+opts+") "+st.SQL, st.Args...).Scan(&raw); err != nil {
		return PlanNode{}, fmt.Errorf("explain %s: %w", st.SQL, err)
	}
	var out []struct {
		Plan PlanNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		return PlanNode{}, fmt.Errorf("read the plan of %s: %v", st.SQL, err)
	}
	return out[0].Plan, nil
}

// Unbounded lists what in plan makes a statement's cost grow with its
// tables rather than with its result: every sequential scan, and every node
// that went through more than maxRows rows (an index scan that reads a whole
// channel's history to return its newest row, say). An empty list is a plan
// whose cost stays flat as the tables grow.
func Unbounded(plan PlanNode, maxRows float64) []string {
	var out []string
	var walk func(n PlanNode)
	walk = func(n PlanNode) {
		switch {
		case n.NodeType == "Seq Scan":
			out = append(out, fmt.Sprintf("Seq Scan on %s (%.0f rows estimated)", n.Relation, n.PlanRows))
		case n.RowsRead() > maxRows:
			what := n.NodeType
			if n.Relation != "" {
				what += " on " + n.Relation
			}
			if n.Index != "" {
				what += " using " + n.Index
			}
			out = append(out, fmt.Sprintf("%s read %.0f rows (more than %.0f)", what, n.RowsRead(), maxRows))
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan)
	return out
}

// Indexes lists the indexes plan reads, in plan order.
func Indexes(plan PlanNode) []string {
	var out []string
	var walk func(n PlanNode)
	walk = func(n PlanNode) {
		if n.Index != "" {
			out = append(out, n.Index)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan)
	return out
}
