-- Written by hand: the first three indexes are what ent/schema declares (the
-- generator writes exactly these statements), the last two are expression
-- indexes, which ent cannot express. Together they serve every lookup of the
-- reply path and of message routing that had none (bot/replydb_test.go):
--   conversation_history (discord_message_id): SaveTurns' "already saved"
--     check and the bot's reply-to routing;
--   conversation_history (channel_id, created_at): the last personality to
--     speak in a DM channel;
--   deliveries (discord_message_id): reply-to routing to the second and later
--     messages of a split reply;
--   lower(name), lower(display_name) on personalities: resolving what a user
--     typed (ResolvePersonality, /config, /personality), any case.
--
-- Plain CREATE INDEX, not CONCURRENTLY: every migration runs in one
-- transaction (migrations.Up), where CONCURRENTLY is refused. A plain build
-- blocks writes to the table (reads go on) while it runs: 24-43 s for all
-- five at 10,000,000 history rows and deliveries (BENCHMARKS.md). To avoid
-- that on a large database, build the indexes beforehand with CREATE INDEX
-- CONCURRENTLY and these same names; IF NOT EXISTS then makes this migration
-- a no-op.
CREATE INDEX IF NOT EXISTS "conversationhistory_channel_id_created_at" ON "conversation_history" ("channel_id", "created_at");
CREATE INDEX IF NOT EXISTS "conversationhistory_discord_message_id" ON "conversation_history" ("discord_message_id");
CREATE INDEX IF NOT EXISTS "delivery_discord_message_id" ON "deliveries" ("discord_message_id");
CREATE INDEX IF NOT EXISTS "personalities_name_lower" ON "personalities" (lower("name"));
CREATE INDEX IF NOT EXISTS "personalities_display_name_lower" ON "personalities" (lower("display_name"));
