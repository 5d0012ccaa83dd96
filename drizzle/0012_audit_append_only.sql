-- The audit log is append-only in the database, not only in the code (issue 6).
--
-- 1. Triggers refuse UPDATE and DELETE of any audit_log row and TRUNCATE of the table, for every
--    role including the table's owner and superusers: SQLSTATE 23001 (restrict_violation),
--    constraint audit_log_append_only. Rewriting history first needs
--    `ALTER TABLE audit_log DISABLE TRIGGER …` (owner only, a deliberate DDL statement that
--    statement logging records) or a superuser's `session_replication_role = replica`; even then
--    the hash chain shows it (`npm run audit:verify`).
-- 2. bourse_app, a NOLOGIN role holding what the app needs: SELECT, INSERT, UPDATE, DELETE on
--    every table of the schema, but only SELECT, INSERT on audit_log, and the sequences. In
--    production the Worker connects as a LOGIN role that is a member of bourse_app (README,
--    "Audit trail"); migrations run as the owner. Roles are per cluster, so it is created only
--    if missing (a concurrent migration of another database may create it first). PGlite has
--    roles and GRANT too (one superuser session, SET ROLE works), so this one file serves both.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation', CONSTRAINT = 'audit_log_append_only',
      HINT = 'audit entries are never changed or removed; append a new entry instead';
END $$;--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();--> statement-breakpoint
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bourse_app') THEN
    CREATE ROLE bourse_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created meanwhile by a migration of another database on this server
END $$;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO bourse_app;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO bourse_app;--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO bourse_app;--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM bourse_app;--> statement-breakpoint
-- Tables and sequences later migrations create (as this same owner) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO bourse_app;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO bourse_app;
