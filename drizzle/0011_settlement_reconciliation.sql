CREATE TYPE "public"."discrepancy_kind" AS ENUM('missing', 'extra', 'qty_mismatch', 'amount_mismatch', 'settle_date_mismatch');--> statement-breakpoint
CREATE TYPE "public"."discrepancy_resolution" AS ENUM('settled', 'closed');--> statement-breakpoint
CREATE TYPE "public"."obligation_status" AS ENUM('pending', 'settled', 'disputed');--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reconciliation_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"trigger" text NOT NULL,
	"accounts" integer NOT NULL,
	"positions" integer NOT NULL,
	"differences" integer NOT NULL,
	"details" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_confirmations" (
	"trade_date" date PRIMARY KEY NOT NULL,
	"checksum" text NOT NULL,
	"csv" text NOT NULL,
	"settled" integer NOT NULL,
	"discrepancies" integer NOT NULL,
	"received_by" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_discrepancies" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "settlement_discrepancies_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"trade_date" date NOT NULL,
	"account" text NOT NULL,
	"symbol" text NOT NULL,
	"kind" "discrepancy_kind" NOT NULL,
	"expected" jsonb,
	"confirmed" jsonb,
	"resolution" "discrepancy_resolution",
	"note" text,
	"resolved_by" bigint,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_obligations" (
	"trade_date" date NOT NULL,
	"user_id" bigint NOT NULL,
	"symbol" text NOT NULL,
	"settle_date" date NOT NULL,
	"qty" bigint NOT NULL,
	"cash_cents" bigint NOT NULL,
	"proceeds_cents" bigint NOT NULL,
	"status" "obligation_status" DEFAULT 'pending' NOT NULL,
	"settled_at" timestamp with time zone,
	CONSTRAINT "settlement_obligations_trade_date_user_id_symbol_pk" PRIMARY KEY("trade_date","user_id","symbol")
);
--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "clearing_date" date;--> statement-breakpoint
ALTER TABLE "settlement_confirmations" ADD CONSTRAINT "settlement_confirmations_trade_date_clearing_submissions_trade_date_fk" FOREIGN KEY ("trade_date") REFERENCES "public"."clearing_submissions"("trade_date") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_confirmations" ADD CONSTRAINT "settlement_confirmations_received_by_users_id_fk" FOREIGN KEY ("received_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_discrepancies" ADD CONSTRAINT "settlement_discrepancies_trade_date_settlement_confirmations_trade_date_fk" FOREIGN KEY ("trade_date") REFERENCES "public"."settlement_confirmations"("trade_date") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_discrepancies" ADD CONSTRAINT "settlement_discrepancies_resolved_by_users_id_fk" FOREIGN KEY ("resolved_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_obligations" ADD CONSTRAINT "settlement_obligations_trade_date_clearing_submissions_trade_date_fk" FOREIGN KEY ("trade_date") REFERENCES "public"."clearing_submissions"("trade_date") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_obligations" ADD CONSTRAINT "settlement_obligations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlement_obligations" ADD CONSTRAINT "settlement_obligations_symbol_symbols_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."symbols"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_discrepancies_line_key" ON "settlement_discrepancies" USING btree ("trade_date","account","symbol");--> statement-breakpoint
CREATE INDEX "settlement_discrepancies_open_idx" ON "settlement_discrepancies" USING btree ("id") WHERE "settlement_discrepancies"."resolution" IS NULL;--> statement-breakpoint
CREATE INDEX "settlement_obligations_open_idx" ON "settlement_obligations" USING btree ("user_id") WHERE "settlement_obligations"."status" <> 'settled';--> statement-breakpoint
CREATE INDEX "fills_ts_idx" ON "fills" USING btree ("ts");--> statement-breakpoint
CREATE INDEX "fills_unsubmitted_idx" ON "fills" USING btree ("user_id") WHERE "fills"."clearing_date" IS NULL;