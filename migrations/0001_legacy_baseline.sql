-- The schema as it stood in production before bring-your-own-key (see
-- legacy-schema.md). Written by hand; constraint and index names follow ent's
-- conventions so later generated migrations line up with it. A database that
-- already has these tables adopts this version without running it.
CREATE TABLE "users" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "discord_id" character varying(20) NOT NULL,
  "username" text NULL,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_discord_id_key" ON "users" ("discord_id");

CREATE TABLE "personalities" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "name" text NOT NULL,
  "display_name" text NULL,
  "avatar_url" text NULL,
  "system_prompt" text NULL,
  "character_info" text NULL,
  "personality_traits" text NULL,
  "personality_tone" text NULL,
  "personality_age" text NULL,
  "personality_appearance" text NULL,
  "personality_likes" text NULL,
  "personality_dislikes" text NULL,
  "conversational_goals" text NULL,
  "conversational_examples" text NULL,
  "voice_enabled" boolean NOT NULL DEFAULT false,
  "voice_settings" jsonb NULL,
  "custom_fields" jsonb NULL,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "personalities_name_key" ON "personalities" ("name");

CREATE TABLE "llm_configs" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "personality_id" uuid NOT NULL,
  "model" character varying(100) NOT NULL,
  "vision_model" character varying(100) NULL,
  "temperature" numeric(3,2) NULL,
  "top_p" numeric(4,3) NULL,
  "top_k" integer NULL,
  "frequency_penalty" numeric(3,2) NULL,
  "presence_penalty" numeric(3,2) NULL,
  "repetition_penalty" numeric(3,2) NULL,
  "max_tokens" integer NULL,
  "stop" text[] NULL,
  "seed" integer NULL,
  "logit_bias" jsonb NULL,
  "response_format" jsonb NULL,
  "stream_response" boolean NULL,
  "system_fingerprint" text NULL,
  "memory_score_threshold" numeric(4,3) NULL,
  "memory_limit" integer NULL DEFAULT 20,
  "max_conversation_history" integer NULL DEFAULT 50,
  PRIMARY KEY ("id"),
  CONSTRAINT "llm_configs_personalities_llm_config" FOREIGN KEY ("personality_id") REFERENCES "personalities" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE UNIQUE INDEX "llm_configs_personality_id_key" ON "llm_configs" ("personality_id");

CREATE TABLE "conversation_history" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "channel_id" character varying(20) NOT NULL,
  "guild_id" character varying(20) NULL,
  "personality_id" uuid NOT NULL,
  "user_id" uuid NULL,
  "role" character varying(16) NOT NULL,
  "content" text NOT NULL,
  "discord_message_id" character varying(20) NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "conversation_history_personalities_conversation_turns" FOREIGN KEY ("personality_id") REFERENCES "personalities" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "conversation_history_users_conversation_turns" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX "conversationhistory_channel_id_personality_id_created_at" ON "conversation_history" ("channel_id", "personality_id", "created_at");
