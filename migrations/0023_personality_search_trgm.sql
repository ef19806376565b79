-- Written by hand: trigram indexes (pg_trgm, a contrib module of stock
-- PostgreSQL and a trusted extension since PostgreSQL 13, so the database's
-- owner may create it) on the lower(…) of what autocomplete matches what a
-- user types against: personalities' name and display_name, and aliases.
-- They serve store.Suggest's lower(column) LIKE '%typed%' (three characters
-- or more) and LIKE 'typed%' (any length), which no B-tree serves; Discord
-- asks on every keystroke and wants an answer within 3 s. fastupdate off:
-- these tables are rarely written, and rows in a GIN pending list are read
-- one by one on every search (the planner then prefers a sequential scan)
-- until a vacuum moves them into the index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS "personalities_name_trgm" ON "personalities" USING gin (lower("name") gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX IF NOT EXISTS "personalities_display_name_trgm" ON "personalities" USING gin (lower("display_name") gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX IF NOT EXISTS "personality_aliases_alias_trgm" ON "personality_aliases" USING gin (lower("alias") gin_trgm_ops) WITH (fastupdate = off);
-- Autocomplete with nothing typed: the user's own personalities first, by
-- name (store.suggestAll).
CREATE INDEX IF NOT EXISTS "personalities_owner_id_name" ON "personalities" ("owner_id", "name");
