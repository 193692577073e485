-- Exact counts without scanning the log: every insert resolves its username key and bumps
-- the per-username and total counters in the same transaction as the row itself.
INSERT INTO "account_log_totals" ("shard", "row_count")
SELECT shard, 0 FROM generate_series(0, 15) AS shard
ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_logs_count_insert"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- Chosen once: random() in the WHERE clause would be drawn again for every row.
  target_shard smallint := floor(random() * 16)::smallint;
BEGIN
  INSERT INTO "account_log_usernames" AS u ("username_normalized", "row_count")
  VALUES (NEW."username_normalized", 1)
  ON CONFLICT ("username_normalized") DO UPDATE SET "row_count" = u."row_count" + 1
  RETURNING u."id" INTO NEW."username_key";
  UPDATE "account_log_totals" SET "row_count" = "row_count" + 1
  WHERE "shard" = target_shard;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "account_logs_count_insert"
BEFORE INSERT ON "account_logs"
FOR EACH ROW EXECUTE FUNCTION "account_logs_count_insert"();
