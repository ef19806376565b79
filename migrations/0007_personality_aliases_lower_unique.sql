-- Written by hand: ent cannot express an expression index. Aliases keep the case
-- they were written in but are unique regardless of case, and lookups by
-- lower(alias) use this index.
CREATE UNIQUE INDEX "personality_aliases_alias_lower_key" ON "personality_aliases" (lower("alias"));
