-- Confab server schema, version 6: emails are looked up as lower(email) on every engine (the
-- PostgreSQL schema has no NOCASE collation), so that lookup gets its own index here.
CREATE INDEX users_by_lower_email ON users(lower(email));
