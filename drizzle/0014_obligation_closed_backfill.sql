ALTER TYPE "public"."obligation_status" ADD VALUE 'closed';--> statement-breakpoint
-- Fills that submissions made before fills.clearing_date existed (0011) already took: the first
-- submitted trade date whose day (New York) they fall in, so no later submission takes them again.
UPDATE "fills" f SET "clearing_date" = (
  SELECT min(s."trade_date") FROM "clearing_submissions" s
  WHERE f."ts" < ((s."trade_date" + 1)::timestamp AT TIME ZONE 'America/New_York'))
WHERE f."clearing_date" IS NULL
  AND f."ts" < (SELECT (max("trade_date") + 1)::timestamp AT TIME ZONE 'America/New_York'
                FROM "clearing_submissions");
