CREATE TYPE "public"."ledger_kind" AS ENUM('deposit', 'withdrawal', 'reserve', 'release', 'trade', 'fee', 'adjustment');--> statement-breakpoint
CREATE TYPE "public"."order_side" AS ENUM('buy', 'sell');--> statement-breakpoint
CREATE TYPE "public"."order_status" AS ENUM('pending', 'open', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired');--> statement-breakpoint
CREATE TYPE "public"."order_tif" AS ENUM('GTC', 'DAY', 'IOC', 'FOK');--> statement-breakpoint
CREATE TYPE "public"."order_type" AS ENUM('limit', 'market', 'stop', 'stop_limit');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"action" text NOT NULL,
	"data" jsonb NOT NULL,
	"prev_hash" text,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cash_ledger" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cash_ledger_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" bigint NOT NULL,
	"kind" "ledger_kind" NOT NULL,
	"amount_cents" bigint NOT NULL,
	"reserved_delta_cents" bigint DEFAULT 0 NOT NULL,
	"cash_after_cents" bigint NOT NULL,
	"reserved_after_cents" bigint NOT NULL,
	"ref_type" text,
	"ref_id" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"symbol" text NOT NULL,
	"seq" bigint NOT NULL,
	"taker_order_id" bigint NOT NULL,
	"maker_order_id" bigint NOT NULL,
	"taker_side" "order_side" NOT NULL,
	"price_cents" bigint NOT NULL,
	"qty" bigint NOT NULL,
	"executed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fills_symbol_seq_pk" PRIMARY KEY("symbol","seq"),
	CONSTRAINT "fills_qty_pos" CHECK ("fills"."qty" > 0),
	CONSTRAINT "fills_price_pos" CHECK ("fills"."price_cents" > 0)
);
--> statement-breakpoint
CREATE TABLE "instruments" (
	"symbol" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"tick_cents" integer DEFAULT 1 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "instruments_symbol_format" CHECK ("instruments"."symbol" ~ '^[A-Z][A-Z0-9.]{0,9}$'),
	CONSTRAINT "instruments_tick_pos" CHECK ("instruments"."tick_cents" > 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "orders_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" bigint NOT NULL,
	"symbol" text NOT NULL,
	"side" "order_side" NOT NULL,
	"type" "order_type" NOT NULL,
	"tif" "order_tif" NOT NULL,
	"post_only" boolean DEFAULT false NOT NULL,
	"qty" bigint NOT NULL,
	"price_cents" bigint,
	"stop_cents" bigint,
	"status" "order_status" DEFAULT 'pending' NOT NULL,
	"filled_qty" bigint DEFAULT 0 NOT NULL,
	"reserved_cash_cents" bigint DEFAULT 0 NOT NULL,
	"reserved_qty" bigint DEFAULT 0 NOT NULL,
	"reason" text,
	"client_order_id" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_qty_pos" CHECK ("orders"."qty" > 0),
	CONSTRAINT "orders_filled_range" CHECK ("orders"."filled_qty" >= 0 AND "orders"."filled_qty" <= "orders"."qty"),
	CONSTRAINT "orders_reserved_nonneg" CHECK ("orders"."reserved_cash_cents" >= 0 AND "orders"."reserved_qty" >= 0)
);
--> statement-breakpoint
CREATE TABLE "positions" (
	"user_id" bigint NOT NULL,
	"symbol" text NOT NULL,
	"qty" bigint DEFAULT 0 NOT NULL,
	"reserved_qty" bigint DEFAULT 0 NOT NULL,
	"cost_cents" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "positions_user_id_symbol_pk" PRIMARY KEY("user_id","symbol"),
	CONSTRAINT "positions_qty_nonneg" CHECK ("positions"."qty" >= 0),
	CONSTRAINT "positions_reserved_range" CHECK ("positions"."reserved_qty" >= 0 AND "positions"."reserved_qty" <= "positions"."qty")
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "refresh_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" bigint NOT NULL,
	"token_hash" text NOT NULL,
	"family_id" text NOT NULL,
	"mfa" boolean DEFAULT false NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"cash_cents" bigint DEFAULT 0 NOT NULL,
	"reserved_cash_cents" bigint DEFAULT 0 NOT NULL,
	"totp_secret" text,
	"totp_enabled" boolean DEFAULT false NOT NULL,
	"totp_last_step" bigint,
	"audit_seq" bigint DEFAULT 0 NOT NULL,
	"audit_head" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_lower" CHECK ("users"."email" = lower("users"."email")),
	CONSTRAINT "users_cash_nonneg" CHECK ("users"."cash_cents" >= 0),
	CONSTRAINT "users_reserved_cash_range" CHECK ("users"."reserved_cash_cents" >= 0 AND "users"."reserved_cash_cents" <= "users"."cash_cents")
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cash_ledger" ADD CONSTRAINT "cash_ledger_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_symbol_instruments_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."instruments"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_taker_order_id_orders_id_fk" FOREIGN KEY ("taker_order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_maker_order_id_orders_id_fk" FOREIGN KEY ("maker_order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_symbol_instruments_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."instruments"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_symbol_instruments_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."instruments"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_user_seq_key" ON "audit_log" USING btree ("user_id","seq");--> statement-breakpoint
CREATE INDEX "cash_ledger_user_idx" ON "cash_ledger" USING btree ("user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "cash_ledger_idem_key" ON "cash_ledger" USING btree ("user_id","idempotency_key") WHERE "cash_ledger"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "fills_taker_idx" ON "fills" USING btree ("taker_order_id");--> statement-breakpoint
CREATE INDEX "fills_maker_idx" ON "fills" USING btree ("maker_order_id");--> statement-breakpoint
CREATE INDEX "orders_user_idx" ON "orders" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "orders_open_idx" ON "orders" USING btree ("symbol","status") WHERE "orders"."status" IN ('pending', 'open', 'partially_filled');--> statement-breakpoint
CREATE UNIQUE INDEX "orders_idem_key" ON "orders" USING btree ("user_id","idempotency_key") WHERE "orders"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "refresh_tokens_hash_key" ON "refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "refresh_tokens_family_idx" ON "refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");