-- Issue 3's data contract: users.tier/role, the symbols table (was instruments) with status and a
-- reference price, order status `partial`, orders.time_in_force/stop_price_cents/avg_price_cents/
-- filled_at and client_order_id unique per user, fills one row per order side of an engine event,
-- share transfers in the cash ledger, per-IP throttle counters. Hand-written (drizzle-kit asks
-- interactively about renames); the snapshot is drizzle-kit's own for src/db/schema.ts.
CREATE TYPE "public"."account_tier" AS ENUM('retail', 'pro');--> statement-breakpoint
CREATE TYPE "public"."symbol_status" AS ENUM('active', 'halted', 'delisted');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('trader', 'market_maker', 'admin');--> statement-breakpoint
ALTER TYPE "public"."ledger_kind" ADD VALUE 'transfer_in';--> statement-breakpoint
ALTER TYPE "public"."order_status" RENAME VALUE 'partially_filled' TO 'partial';--> statement-breakpoint
CREATE TABLE "auth_throttle" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "tier" "account_tier" DEFAULT 'retail' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "role" "user_role" DEFAULT 'trader' NOT NULL;--> statement-breakpoint
ALTER TABLE "instruments" RENAME TO "symbols";--> statement-breakpoint
ALTER TABLE "symbols" RENAME CONSTRAINT "instruments_pkey" TO "symbols_pkey";--> statement-breakpoint
ALTER TABLE "symbols" RENAME CONSTRAINT "instruments_symbol_format" TO "symbols_symbol_format";--> statement-breakpoint
ALTER TABLE "symbols" RENAME CONSTRAINT "instruments_tick_pos" TO "symbols_tick_pos";--> statement-breakpoint
ALTER TABLE "symbols" ADD COLUMN "status" "symbol_status" DEFAULT 'active' NOT NULL;--> statement-breakpoint
UPDATE "symbols" SET "status" = 'halted' WHERE NOT "active";--> statement-breakpoint
ALTER TABLE "symbols" DROP COLUMN "active";--> statement-breakpoint
-- rows from before this migration get 100.00; the demo seed sets real ones on a fresh database
ALTER TABLE "symbols" ADD COLUMN "reference_price_cents" bigint;--> statement-breakpoint
UPDATE "symbols" SET "reference_price_cents" = 10000;--> statement-breakpoint
ALTER TABLE "symbols" ALTER COLUMN "reference_price_cents" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "symbols" ADD CONSTRAINT "symbols_reference_price_pos" CHECK ("symbols"."reference_price_cents" > 0);--> statement-breakpoint
ALTER TABLE "positions" RENAME CONSTRAINT "positions_symbol_instruments_symbol_fk" TO "positions_symbol_symbols_symbol_fk";--> statement-breakpoint
ALTER TABLE "orders" RENAME CONSTRAINT "orders_symbol_instruments_symbol_fk" TO "orders_symbol_symbols_symbol_fk";--> statement-breakpoint
ALTER TABLE "orders" RENAME COLUMN "tif" TO "time_in_force";--> statement-breakpoint
ALTER TABLE "orders" RENAME COLUMN "stop_cents" TO "stop_price_cents";--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "avg_price_cents" bigint;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "filled_at" timestamp with time zone;--> statement-breakpoint
DROP INDEX "orders_open_idx";--> statement-breakpoint
CREATE INDEX "orders_open_idx" ON "orders" USING btree ("symbol","status") WHERE "orders"."status" IN ('pending', 'open', 'partial');--> statement-breakpoint
CREATE UNIQUE INDEX "orders_client_order_id_key" ON "orders" USING btree ("user_id","client_order_id") WHERE "orders"."client_order_id" IS NOT NULL;--> statement-breakpoint
-- nothing wrote fills before issue 4: the table is rebuilt in its new shape
DROP TABLE "fills";--> statement-breakpoint
CREATE TABLE "fills" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "fills_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"order_id" bigint NOT NULL,
	"counterparty_order_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"symbol" text NOT NULL,
	"seq" bigint NOT NULL,
	"side" "order_side" NOT NULL,
	"taker" boolean NOT NULL,
	"qty" bigint NOT NULL,
	"price_cents" bigint NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fills_qty_pos" CHECK ("fills"."qty" > 0),
	CONSTRAINT "fills_price_pos" CHECK ("fills"."price_cents" > 0)
);--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_counterparty_order_id_orders_id_fk" FOREIGN KEY ("counterparty_order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_symbol_symbols_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."symbols"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "fills_event_key" ON "fills" USING btree ("symbol","seq","order_id");--> statement-breakpoint
CREATE INDEX "fills_order_idx" ON "fills" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "fills_user_idx" ON "fills" USING btree ("user_id","id");--> statement-breakpoint
ALTER TABLE "cash_ledger" ADD COLUMN "symbol" text;--> statement-breakpoint
ALTER TABLE "cash_ledger" ADD COLUMN "qty" bigint;--> statement-breakpoint
ALTER TABLE "cash_ledger" ADD CONSTRAINT "cash_ledger_symbol_symbols_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."symbols"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cash_ledger" ADD CONSTRAINT "cash_ledger_shares" CHECK (("cash_ledger"."symbol" IS NULL) = ("cash_ledger"."qty" IS NULL) AND ("cash_ledger"."qty" IS NULL OR "cash_ledger"."qty" > 0));
