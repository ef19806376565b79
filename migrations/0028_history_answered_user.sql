-- Written by hand: ent/schema's column and index for the user a personality's
-- turn answered (conversation_history.answered_user_id), then the older
-- turns filled in. SaveExchange writes a user turn and the reply to it
-- together, so an older personality turn answered the user turn just before
-- it in its channel with that personality. /data export and DeleteUserData
-- read the column to take the personality's answers with the user's turns.
-- modify "conversation_history" table
ALTER TABLE "conversation_history" ADD COLUMN "answered_user_id" uuid NULL;
-- create index "conversationhistory_answered_user_id_created_at" to table: "conversation_history"
CREATE INDEX "conversationhistory_answered_user_id_created_at" ON "conversation_history" ("answered_user_id", "created_at");
-- fill it for the turns written before it
UPDATE "conversation_history" a SET "answered_user_id" = (
  SELECT u."user_id" FROM "conversation_history" u
  WHERE u."channel_id" = a."channel_id" AND u."personality_id" = a."personality_id"
    AND u."role" = 'user' AND u."created_at" <= a."created_at"
  ORDER BY u."created_at" DESC LIMIT 1)
WHERE a."role" = 'assistant' AND a."answered_user_id" IS NULL;
