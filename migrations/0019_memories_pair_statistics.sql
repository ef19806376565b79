-- Written by hand (ent cannot express it): extended statistics on the pair
-- columns of memories. A user talks to few personalities, so the two columns
-- are far from independent, and without these PostgreSQL multiplies their
-- selectivities and expects a handful of rows for a pair of 100,000: it
-- then plans a page of /memory list as a bitmap scan of the whole pair and a
-- sort rather than a backward walk of the pair's index that stops after one
-- page (internal/memory TestQueriesUseIndexes). ANALYZE (autovacuum) fills
-- them in.
CREATE STATISTICS IF NOT EXISTS "memories_pair" (ndistinct, dependencies, mcv) ON "personality_id", "user_id" FROM "memories";
