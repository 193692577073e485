ALTER TABLE "account_log_usernames" ADD COLUMN "last_id" bigint;--> statement-breakpoint
UPDATE "account_log_usernames" u SET "last_id" = m.last_id
FROM (SELECT "username_key", max("id") AS last_id FROM "account_logs" GROUP BY "username_key") m
WHERE u."id" = m."username_key";
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "account_logs_count_insert"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- Chosen once: random() in the WHERE clause would be drawn again for every row.
  target_shard smallint := floor(random() * 16)::smallint;
BEGIN
  INSERT INTO "account_log_usernames" AS u ("username_normalized", "row_count", "last_id")
  VALUES (NEW."username_normalized", 1, NEW."id")
  ON CONFLICT ("username_normalized") DO UPDATE
    SET "row_count" = u."row_count" + 1, "last_id" = greatest(u."last_id", NEW."id")
  RETURNING u."id" INTO NEW."username_key";
  UPDATE "account_log_totals" SET "row_count" = "row_count" + 1
  WHERE "shard" = target_shard;
  RETURN NEW;
END;
$$;
