-- The application's own PostgreSQL role: it reads and writes the data, but may only add to
-- the audit log (core_auditevent), never change or remove a row of it.
--
-- Run as a superuser (or the database owner) connected to the database, AFTER
-- `manage.py migrate` has run as the owner role (placements_owner below): migrations
-- create tables, the application role does not. Replace the names and set a password
-- (`ALTER ROLE placements_app PASSWORD '…'`) to suit. tests/security/test_grants.py runs
-- this file against the test database and checks what it allows.

CREATE ROLE placements_app LOGIN;

GRANT CONNECT, TEMPORARY ON DATABASE placements TO placements_app;
GRANT USAGE ON SCHEMA public TO placements_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO placements_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO placements_app;

-- The audit log is append-only for the application.
REVOKE UPDATE, DELETE, TRUNCATE ON core_auditevent FROM placements_app;

-- Tables that later migrations add get the same rights (run migrations as placements_owner).
ALTER DEFAULT PRIVILEGES FOR ROLE placements_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO placements_app;
ALTER DEFAULT PRIVILEGES FOR ROLE placements_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO placements_app;
