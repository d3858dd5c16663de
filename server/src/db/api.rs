//! API tokens, gate checks, idempotency keys and stage results.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Application ids, or `["*"]` for every application.
    pub applications: Vec<String>,
    pub user_id: i64,
    pub user_name: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.api_token_id, t.name, t.prefix, t.scopes, t.applications, t.user_id, \
     u.display_name as user_name, c.display_name as created_by, t.created_at, t.last_used_at, t.revoked_at";

const TOKEN_FROM: &str = "api_tokens t join users u on u.user_id = t.user_id \
     join users c on c.user_id = t.created_by";

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn token(r: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get("api_token_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        scopes: words(&r.try_get::<String, _>("scopes")?),
        applications: words(&r.try_get::<String, _>("applications")?),
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub struct NewToken<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a [String],
    pub applications: &'a [String],
    pub user_id: i64,
    pub created_by: i64,
    pub now: i64,
}

pub async fn insert_token(tx: &mut Tx<'_>, t: &NewToken<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into api_tokens (name, prefix, secret_hash, scopes, applications, user_id, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning api_token_id",
    )
    .bind(t.name)
    .bind(t.prefix)
    .bind(t.secret_hash)
    .bind(t.scopes.join(" "))
    .bind(t.applications.join(" "))
    .bind(t.user_id)
    .bind(t.created_by)
    .bind(t.now)
    .fetch_one(&mut **tx)
    .await
}

/// Every token, newest first (revoked ones too: their history stays readable).
pub async fn tokens(db: &Db) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {TOKEN_COLUMNS} from {TOKEN_FROM} order by t.api_token_id desc"
    ))
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(token)
    .collect()
}

/// The live (unrevoked) token whose secret hashes to `hash`.
pub async fn live_token(db: &Db, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {TOKEN_COLUMNS} from {TOKEN_FROM} where t.secret_hash = $1 and t.revoked_at is null"
    ))
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(token)
    .transpose()
}

/// Revokes a token; false when there is none or it was revoked before.
pub async fn revoke_token(db: &Db, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = db.write_one(sqlx::query(
        "update api_tokens set revoked_at = $2 where api_token_id = $1 and revoked_at is null",
    )
    .bind(id)
    .bind(now))
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a use of the token; written at most once a minute per token, so a busy pipeline does
/// not turn every read into a write.
pub async fn touch_token(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    db.write_one(
        sqlx::query(
            "update api_tokens set last_used_at = $2 where api_token_id = $1 \
         and (last_used_at is null or last_used_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(now - 60_000),
    )
    .await?;
    Ok(())
}

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

/// The request an idempotency key made, and the hash of the body it came with.
pub async fn idempotent(
    tx: &mut Tx<'_>,
    token: i64,
    key: &str,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "select body_hash, request_id from idempotency_keys where api_token_id = $1 and key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("body_hash")?, r.try_get("request_id")?)))
        .transpose()
}

pub async fn insert_idempotency(
    tx: &mut Tx<'_>,
    token: i64,
    key: &str,
    body_hash: &str,
    request_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into idempotency_keys (api_token_id, key, body_hash, request_id, created_at) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(token)
    .bind(key)
    .bind(body_hash)
    .bind(request_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct StageResult {
    pub id: i64,
    pub request_id: i64,
    pub stage: String,
    pub status: String,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// JSON object of named numbers.
    pub metrics: String,
    pub created_at: i64,
}

pub struct NewStageResult<'a> {
    pub request_id: i64,
    pub application_id: &'a str,
    pub environment_id: &'a str,
    pub stage: &'a str,
    pub status: &'a str,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub metrics: &'a str,
    pub token_id: Option<i64>,
    pub now: i64,
}

pub async fn insert_stage_result(
    tx: &mut Tx<'_>,
    s: &NewStageResult<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into stage_results (request_id, application_id, environment_id, stage, status, \
         started_at, finished_at, metrics, api_token_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning stage_result_id",
    )
    .bind(s.request_id)
    .bind(s.application_id)
    .bind(s.environment_id)
    .bind(s.stage)
    .bind(s.status)
    .bind(s.started_at)
    .bind(s.finished_at)
    .bind(s.metrics)
    .bind(s.token_id)
    .bind(s.now)
    .fetch_one(&mut **tx)
    .await
}

const STAGE_COLUMNS: &str =
    "stage_result_id, request_id, stage, status, started_at, finished_at, metrics, created_at";

fn stage_result(r: &AnyRow) -> Result<StageResult, sqlx::Error> {
    Ok(StageResult {
        id: r.try_get("stage_result_id")?,
        request_id: r.try_get("request_id")?,
        stage: r.try_get("stage")?,
        status: r.try_get("status")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        metrics: r.try_get("metrics")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The stage results of one request, in the order they came.
pub async fn stage_results(db: &Db, request_id: i64) -> Result<Vec<StageResult>, sqlx::Error> {
    sqlx::query(&format!(
        "select {STAGE_COLUMNS} from stage_results where request_id = $1 order by stage_result_id"
    ))
    .bind(request_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(stage_result)
    .collect()
}

/// The finished stage results of an application since `since`, oldest first (at most `limit`).
pub async fn stage_history(
    db: &Db,
    application_id: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<(String, StageResult)>, sqlx::Error> {
    sqlx::query(&format!(
        "select environment_id, {STAGE_COLUMNS} from stage_results \
         where application_id = $1 and created_at >= $2 and status <> 'started' \
         order by created_at limit $3"
    ))
    .bind(application_id)
    .bind(since)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("environment_id")?, stage_result(r)?)))
    .collect()
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
