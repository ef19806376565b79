-- Contract step (written by hand): drops the legacy columns whose data the
-- llm-config-jsonb and custom-fields data migrations moved. Applied only by
-- `tzurot migrate data start contract-llm-configs`, which refuses unless both
-- of those runs are recorded as verified.
ALTER TABLE "llm_configs"
  DROP COLUMN "top_k",
  DROP COLUMN "frequency_penalty",
  DROP COLUMN "presence_penalty",
  DROP COLUMN "repetition_penalty",
  DROP COLUMN "stop",
  DROP COLUMN "seed",
  DROP COLUMN "logit_bias",
  DROP COLUMN "response_format",
  DROP COLUMN "stream_response",
  DROP COLUMN "system_fingerprint";
ALTER TABLE "personalities" DROP COLUMN "voice_settings";
