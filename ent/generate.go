// Package ent holds the generated ent client; the hand-written schema lives in ./schema.
package ent

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate --feature sql/versioned-migration,sql/upsert,sql/lock,sql/execquery,sql/modifier ./schema
