CREATE TYPE "public"."order_event_type" AS ENUM('canceled', 'expired', 'amended', 'rejected');--> statement-breakpoint
CREATE TABLE "order_events" (
	"symbol" text NOT NULL,
	"seq" bigint NOT NULL,
	"order_id" bigint NOT NULL,
	"type" "order_event_type" NOT NULL,
	"qty" bigint,
	"released_qty" bigint NOT NULL,
	"reason" text,
	"ts" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_events_symbol_seq_order_id_pk" PRIMARY KEY("symbol","seq","order_id")
);
--> statement-breakpoint
ALTER TABLE "order_events" ADD CONSTRAINT "order_events_symbol_symbols_symbol_fk" FOREIGN KEY ("symbol") REFERENCES "public"."symbols"("symbol") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_events" ADD CONSTRAINT "order_events_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;