ALTER TABLE "positions" DROP CONSTRAINT "positions_qty_nonneg";--> statement-breakpoint
ALTER TABLE "positions" DROP CONSTRAINT "positions_reserved_range";--> statement-breakpoint
ALTER TABLE "positions" drop column "avg_cost_cents";--> statement-breakpoint
ALTER TABLE "positions" ADD COLUMN "avg_cost_cents" bigint GENERATED ALWAYS AS (CASE WHEN qty <> 0 THEN round(cost_cents::numeric / qty)::bigint END) STORED;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "short_limit_qty" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_reserved_nonneg" CHECK ("positions"."reserved_qty" >= 0);--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_short_limit" CHECK ("users"."short_limit_qty" >= 0 AND ("users"."short_limit_qty" = 0 OR "users"."role" = 'market_maker'));;--> statement-breakpoint
-- No phantom shares: a position's free shares (qty - reserved_qty) never go below what its user
-- may be short (0 for everyone but market makers). The user's row is already locked by whoever
-- changes a position (src/orders), so this read is cheap and consistent.
CREATE FUNCTION positions_within_short_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  short_limit bigint;
BEGIN
  SELECT short_limit_qty INTO short_limit FROM users WHERE id = NEW.user_id;
  IF NEW.qty - NEW.reserved_qty < -short_limit THEN
    RAISE EXCEPTION 'position of user % in % would be % free shares, beyond its short limit %',
      NEW.user_id, NEW.symbol, NEW.qty - NEW.reserved_qty, short_limit
      USING ERRCODE = 'check_violation', CONSTRAINT = 'positions_short_limit';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER positions_short_limit BEFORE INSERT OR UPDATE ON positions
  FOR EACH ROW EXECUTE FUNCTION positions_within_short_limit();
