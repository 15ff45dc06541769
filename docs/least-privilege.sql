-- A role for the running application that can append and read events but never change them.
-- Run as the database owner after `manage.py migrate`; run migrations as the owner, the app as ledger_app.
-- (tests/eventstore/test_privileges.py runs this file and checks every line of the promise.)
CREATE ROLE ledger_app LOGIN;
GRANT USAGE ON SCHEMA public TO ledger_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ledger_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ledger_app;
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM ledger_app;
REVOKE UPDATE, TRUNCATE ON snapshots FROM ledger_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON events_clock FROM ledger_app;
GRANT EXECUTE ON FUNCTION events_append(text[], integer[], integer[], text[], smallint[], jsonb[], bytea[], jsonb, jsonb[], smallint[]) TO ledger_app;
