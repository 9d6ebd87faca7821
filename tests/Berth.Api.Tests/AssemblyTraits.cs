// Every API test runs in both database passes of scripts/test.sh (SQLite, then PostgreSQL): the server's behaviour over
// its database is what they check. Elsewhere only the classes marked so run twice. The few API classes whose subject
// does not touch the database (HTTP headers, the authorization matrix, in-memory throttles) also carry
// [Trait("Database", "sqlite")], which the PostgreSQL pass leaves out.
[assembly: Trait("Database", "both")]
