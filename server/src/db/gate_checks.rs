//! The gate's records: one per answer, and the requests a release's answer reads.

use super::Db;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

/// One answer of the gate, as recorded.
#[derive(Debug, Clone)]
pub struct GateCheck {
    pub id: i64,
    pub token_id: Option<i64>,
    pub user_id: Option<i64>,
    /// The token's name or the user's, whoever asked.
    pub asked_by: String,
    pub application_id: String,
    pub environment_id: String,
    pub version: String,
    pub artifact: String,
    pub actor: String,
    pub pipeline_url: String,
    pub at: i64,
    pub dry_run: bool,
    pub decision: String,
    pub request_id: Option<i64>,
    pub rule: String,
    /// JSON array of strings.
    pub reasons: String,
    pub created_at: i64,
}

/// Records gate answers on SQLite, all in one statement.
pub async fn insert_gate_checks(
    exec: impl sqlx::Executor<'_, Database = Any>,
    checks: &[GateCheck],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 15;
    if checks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into gate_checks (api_token_id, user_id, application_id, environment_id, version, \
         artifact, actor, pipeline_url, at, dry_run, decision, request_id, rule, reasons, created_at) \
         values {}",
        super::DbKind::Sqlite.values_placeholders(checks.len(), COLUMNS)
    );
    let mut query = sqlx::query(&sql);
    for g in checks {
        query = query
            .bind(g.token_id)
            .bind(g.user_id)
            .bind(&g.application_id)
            .bind(&g.environment_id)
            .bind(&g.version)
            .bind(&g.artifact)
            .bind(&g.actor)
            .bind(&g.pipeline_url)
            .bind(g.at)
            .bind(i64::from(g.dry_run))
            .bind(&g.decision)
            .bind(g.request_id)
            .bind(&g.rule)
            .bind(&g.reasons)
            .bind(g.created_at);
    }
    query.execute(exec).await?;
    Ok(())
}

/// Records gate answers on PostgreSQL with one `COPY`: the rows are streamed as text, with no
/// statement to bind and plan for thousands of parameters. `ending` is set when the end of the
/// rows is about to be sent: from then on PostgreSQL may commit them even if the answer never
/// arrives, so a failure leaves unknown whether they were recorded; before, it recorded nothing.
pub async fn copy_gate_checks(
    conn: &mut sqlx::PgConnection,
    checks: &[GateCheck],
    ending: &mut bool,
) -> Result<(), sqlx::Error> {
    if checks.is_empty() {
        return Ok(());
    }
    let mut rows = String::with_capacity(checks.len() * 256);
    for g in checks {
        copy_row(&mut rows, g);
    }
    let mut copy = conn
        .copy_in_raw(
            "copy gate_checks (api_token_id, user_id, application_id, environment_id, version, \
             artifact, actor, pipeline_url, at, dry_run, decision, request_id, rule, reasons, \
             created_at) from stdin",
        )
        .await?;
    if let Err(e) = copy.send(rows.as_bytes()).await {
        let _ = copy.abort(e.to_string()).await;
        return Err(e);
    }
    *ending = true;
    copy.finish().await?;
    Ok(())
}

/// One gate record as a line of `COPY`'s text format: tab-separated, `\N` for null.
fn copy_row(out: &mut String, g: &GateCheck) {
    use std::fmt::Write;
    let number = |out: &mut String, n: Option<i64>| match n {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("\\N"),
    };
    number(out, g.token_id);
    out.push('\t');
    number(out, g.user_id);
    for text in [
        &g.application_id,
        &g.environment_id,
        &g.version,
        &g.artifact,
        &g.actor,
        &g.pipeline_url,
    ] {
        out.push('\t');
        copy_text(out, text);
    }
    out.push('\t');
    number(out, Some(g.at));
    out.push('\t');
    number(out, Some(i64::from(g.dry_run)));
    out.push('\t');
    copy_text(out, &g.decision);
    out.push('\t');
    number(out, g.request_id);
    out.push('\t');
    copy_text(out, &g.rule);
    out.push('\t');
    copy_text(out, &g.reasons);
    out.push('\t');
    number(out, Some(g.created_at));
    out.push('\n');
}

/// A text value for `COPY`: backslash and the characters that end a field or a line are escaped.
fn copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The latest gate answers, newest first.
pub async fn gate_checks(db: &Db, limit: i64) -> Result<Vec<GateCheck>, sqlx::Error> {
    sqlx::query(
        "select g.gate_check_id, g.api_token_id, g.user_id, coalesce(t.name, u.display_name, '') as asked_by, \
         g.application_id, g.environment_id, g.version, g.artifact, g.actor, g.pipeline_url, g.at, \
         g.dry_run, g.decision, g.request_id, g.rule, g.reasons, g.created_at \
         from gate_checks g left join api_tokens t on t.api_token_id = g.api_token_id \
         left join users u on u.user_id = g.user_id \
         order by g.gate_check_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(GateCheck {
            id: r.try_get("gate_check_id")?,
            token_id: r.try_get("api_token_id")?,
            user_id: r.try_get("user_id")?,
            asked_by: r.try_get("asked_by")?,
            application_id: r.try_get("application_id")?,
            environment_id: r.try_get("environment_id")?,
            version: r.try_get("version")?,
            artifact: r.try_get("artifact")?,
            actor: r.try_get("actor")?,
            pipeline_url: r.try_get("pipeline_url")?,
            at: r.try_get("at")?,
            dry_run: r.try_get::<i64, _>("dry_run")? != 0,
            decision: r.try_get("decision")?,
            request_id: r.try_get("request_id")?,
            rule: r.try_get("rule")?,
            reasons: r.try_get("reasons")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// The requests for one release (application, environment, version), newest first.
pub async fn releases(
    db: &Db,
    app: &str,
    env: &str,
    version: &str,
) -> Result<Vec<super::requests::RequestRow>, sqlx::Error> {
    super::requests::select_where(
        &db.pool,
        "application_id = $1 and environment_id = $2 and version = $3 order by request_id desc limit 20",
        &[app, env, version],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_row_escapes_what_copy_text_reads_as_escapes() {
        let check = GateCheck {
            id: 0,
            token_id: Some(7),
            user_id: None,
            asked_by: String::new(),
            application_id: "banking".into(),
            environment_id: "production".into(),
            version: "2.4.0".into(),
            artifact: String::new(),
            actor: "a\\b\tc\nd\re".into(),
            pipeline_url: "https://ci.example.com/job/1".into(),
            at: 1_700_000_000_000,
            dry_run: true,
            decision: "deny".into(),
            request_id: None,
            rule: "actor".into(),
            reasons: r#"["say \"no\""]"#.into(),
            created_at: 1_700_000_000_001,
        };
        let mut row = String::new();
        copy_row(&mut row, &check);
        assert_eq!(
            row,
            "7\t\\N\tbanking\tproduction\t2.4.0\t\ta\\\\b\\tc\\nd\\re\t\
             https://ci.example.com/job/1\t1700000000000\t1\tdeny\t\\N\tactor\t\
             [\"say \\\\\"no\\\\\"\"]\t1700000000001\n"
        );
    }
}
