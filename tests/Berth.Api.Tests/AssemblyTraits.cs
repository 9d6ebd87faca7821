// Every API test runs in both database passes of scripts/test.sh (SQLite, then PostgreSQL): the server's behaviour over
// its database is what they check. Elsewhere only the classes marked so run twice.
[assembly: Trait("Database", "both")]
