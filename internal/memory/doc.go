// Package memory keeps a personality's long-term memories of each user and
// finds the ones nearest in meaning to a query embedding (cosine
// similarity), scoped to one (personality, user) pair: nothing is ever read
// across pairs.
//
// [Index] is the one interface the product uses. [Postgres] implements it
// on the stock PostgreSQL 15 of `make dev`, which has no pgvector: rows live
// in the memories table, and a search runs in two passes, both in this
// process — the sign bits of every embedding of the pair (kept in memory,
// loaded once and then topped up with what was added since, through the
// index on (personality_id, user_id, created_at)) are compared with the
// query's by Hamming distance, and the nearest candidates are then fetched
// by primary key and ranked by exact cosine similarity. Where pgvector is
// installed, an Index over a vector column with an HNSW index can replace
// it without the callers noticing.
package memory
