-- Written by hand: the statements ent/schema's indexes generate, with IF NOT
-- EXISTS. They serve the retention purges (activities/operator/retention.go),
-- which delete the oldest rows in batches:
--   conversation_history (created_at), memories (created_at): RETENTION_DAYS;
--   deliveries (created_at) of replies' rows (key reply/<request>/reply/<n>),
--     kept as long as the turns are, and of every other row, purged once
--     their workflow can no longer retry; partial, so neither purge walks
--     over the rows the other keeps.
--
-- Plain CREATE INDEX, not CONCURRENTLY: every migration runs in one
-- transaction (migrations.Up), where CONCURRENTLY is refused, and a plain
-- build blocks writes to its table while it runs. On a large database build
-- them beforehand with CREATE INDEX CONCURRENTLY and these same names; IF NOT
-- EXISTS then makes this migration a no-op.
CREATE INDEX IF NOT EXISTS "conversationhistory_created_at" ON "conversation_history" ("created_at");
CREATE INDEX IF NOT EXISTS "deliveries_others_created_at" ON "deliveries" ("created_at") WHERE (key !~~ 'reply/%/reply/%'::text);
CREATE INDEX IF NOT EXISTS "deliveries_replies_created_at" ON "deliveries" ("created_at") WHERE (key ~~ 'reply/%/reply/%'::text);
CREATE INDEX IF NOT EXISTS "memory_created_at" ON "memories" ("created_at");
