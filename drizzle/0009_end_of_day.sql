CREATE TABLE "eod_runs" (
	"trade_date" date PRIMARY KEY NOT NULL,
	"symbols" integer NOT NULL,
	"expired" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "symbols" ADD COLUMN "extended_hours" boolean DEFAULT false NOT NULL;