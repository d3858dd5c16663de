//! Tests of the pool's helpers.

#[test]
fn redact_hides_the_password_only() {
    assert_eq!(
        super::redact("postgres://bob:secret@db:5432/runway"),
        "postgres://bob:***@db:5432/runway"
    );
    assert_eq!(
        super::redact("sqlite://data/runway.db"),
        "sqlite://data/runway.db"
    );
}

#[test]
fn values_placeholders_number_postgres_and_not_sqlite() {
    use super::DbKind;
    assert_eq!(
        DbKind::Sqlite.values_placeholders(2, 3),
        "(?, ?, ?), (?, ?, ?)"
    );
    assert_eq!(
        DbKind::Postgres.values_placeholders(2, 3),
        "($1, $2, $3), ($4, $5, $6)"
    );
    assert_eq!(DbKind::Postgres.values_placeholders(1, 1), "($1)");
}
