//! Exporting the audit trail: administrators and operations from the portal, pipelines with a
//! token of scope `audit:read`, filtered by date, application and person, as JSON (one page) or
//! JSON Lines and CSV (everything that matches).

use crate::auth::MAX_USERNAME_LEN;
use crate::db::audit_trail::{self, ExportQuery, ExportRow};
use crate::db::tokens::TokenRow;
use crate::db::Db;
use crate::domain::text::username_problem;
use crate::domain::Catalog;
use crate::service::error::{Error, Result};
use crate::service::input::parse_day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The filters as typed: every one optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFilter {
    /// First day (UTC), `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day (UTC), `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// An application id.
    pub application: Option<String>,
    /// A user name: what they did.
    pub person: Option<String>,
    /// Events after this one (the `next_after` of the previous page).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
    /// Events on a page, 1 to 1000 (200 if not given).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl ExportFilter {
    /// The filters as a person's form sends them: blanks are "any", and what surrounds a value is
    /// not part of it.
    pub fn tidied(&self) -> ExportFilter {
        let tidy = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        ExportFilter {
            from: tidy(&self.from),
            to: tidy(&self.to),
            application: tidy(&self.application),
            person: tidy(&self.person),
            after: tidy(&self.after),
            limit: tidy(&self.limit),
        }
    }
}

/// One event of the trail, as exported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub event_id: i64,
    pub request_id: i64,
    pub application: String,
    pub environment: String,
    /// When it was written (RFC 3339, UTC).
    pub at: String,
    /// Who did it (their user name); absent for the portal's own acts.
    pub actor: Option<String>,
    pub kind: String,
    /// What the event records, as the timeline shows it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The hash of the request's event before it ("" for its first), and its own.
    pub prev_hash: String,
    pub hash: String,
}

/// A page of the trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
}

/// Who may export, and which applications' events they see.
pub enum Reader<'a> {
    Token(&'a TokenRow),
    Person { admin: bool, ops: bool },
}

/// The filters checked (each mistake named by its field) and narrowed to what `reader` may read.
pub fn query(catalog: &Catalog, reader: &Reader<'_>, f: &ExportFilter) -> Result<ExportQuery> {
    let apps = match reader {
        Reader::Token(token) => {
            crate::service::tokens::require_scope(token, &["audit:read"])?;
            (!token.applications.iter().any(|a| a == "*")).then(|| token.applications.clone())
        }
        Reader::Person { admin, ops } if *admin || *ops => None,
        Reader::Person { .. } => {
            return Err(Error::Forbidden(
                "Only administrators and operations export the audit trail.".into(),
            ))
        }
    };
    let mut errors = BTreeMap::new();
    // Taken as given (the portal's own form is tidied by `ExportFilter::tidied` first), so the
    // API's document says exactly what is accepted.
    let mut day = |field: &str, value: &Option<String>, shift: i64| {
        let text = value.as_deref()?;
        match parse_day(text) {
            Some(d) => jiff::tz::TimeZone::UTC
                .to_timestamp(d.at(0, 0, 0, 0))
                .ok()
                .map(|t| t.as_millisecond() + shift),
            None => {
                errors.insert(
                    field.to_owned(),
                    format!("\"{text}\" is not a date (YYYY-MM-DD)."),
                );
                None
            }
        }
    };
    let from = day("from", &f.from, 0);
    let until = day("to", &f.to, 24 * 3_600_000);
    let application = f.application.as_deref();
    if let Some(app) = application {
        if catalog.application(app).is_none() {
            errors.insert(
                "application".into(),
                format!("There is no application \"{app}\"."),
            );
        }
    }
    let number = |value: &Option<String>, default: i64| match value.as_deref() {
        None => Some(default),
        Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse::<i64>().ok(),
        Some(_) => None,
    };
    let person = f.person.as_deref();
    if let Some(p) = person.and_then(|p| username_problem(p, MAX_USERNAME_LEN)) {
        errors.insert("person".into(), p);
    }
    let limit = number(&f.limit, 200).filter(|l| (1..=1000).contains(l));
    if limit.is_none() {
        errors.insert("limit".into(), "Give 1 to 1000 events a page.".into());
    }
    let after = number(&f.after, 0).filter(|a| *a >= 0);
    if after.is_none() {
        errors.insert("after".into(), "Give an event number, 0 or more.".into());
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let applications = match (application, apps) {
        (Some(app), Some(allowed)) => Some(if allowed.iter().any(|a| a == app) {
            vec![app.to_owned()]
        } else {
            Vec::new()
        }),
        (Some(app), None) => Some(vec![app.to_owned()]),
        (None, allowed) => allowed,
    };
    Ok(ExportQuery {
        after: after.unwrap_or_default(),
        from,
        until,
        applications,
        person: person.map(str::to_owned),
        limit: limit.unwrap_or(200),
    })
}

/// One page of what `q` takes.
pub async fn page(db: &Db, q: &ExportQuery) -> Result<AuditPage> {
    let rows = audit_trail::export(db, q).await?;
    let next_after = (rows.len() as i64 == q.limit)
        .then(|| rows.last().map(|r| r.event_id))
        .flatten();
    Ok(AuditPage {
        events: rows.into_iter().map(entry).collect(),
        next_after,
    })
}

pub fn entry(r: ExportRow) -> AuditEntry {
    AuditEntry {
        event_id: r.event_id,
        request_id: r.request_id,
        application: r.application,
        environment: r.environment,
        at: jiff::Timestamp::from_millisecond(r.at)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        actor: r.actor,
        kind: r.kind,
        payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::String(r.payload)),
        prev_hash: r.prev_hash.unwrap_or_default(),
        hash: r.hash.unwrap_or_default(),
    }
}

/// The CSV header line.
pub const CSV_HEADER: &str =
    "event_id,request_id,application,environment,at,actor,kind,payload,prev_hash,hash\r\n";

/// One CSV line (RFC 4180 quoting). A cell a spreadsheet would take for a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return first) is prefixed with `'`, so opening the export runs nothing.
pub fn csv_line(e: &AuditEntry) -> String {
    let cell = |text: &str| {
        let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.to_owned()
        };
        format!("\"{}\"", guarded.replace('"', "\"\""))
    };
    [
        e.event_id.to_string(),
        e.request_id.to_string(),
        cell(&e.application),
        cell(&e.environment),
        cell(&e.at),
        cell(e.actor.as_deref().unwrap_or_default()),
        cell(&e.kind),
        cell(&e.payload.to_string()),
        cell(&e.prev_hash),
        cell(&e.hash),
    ]
    .join(",")
        + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_is_quoted_and_never_a_formula() {
        let e = AuditEntry {
            event_id: 3,
            request_id: 1,
            application: "banking".into(),
            environment: "production".into(),
            at: "2026-12-01T06:00:00Z".into(),
            actor: Some("=HYPERLINK(\"x\")".into()),
            kind: "approved".into(),
            payload: serde_json::json!({"comment": "a \"quote\", a comma"}),
            prev_hash: String::new(),
            hash: "ab".into(),
        };
        let line = csv_line(&e);
        assert!(
            line.starts_with("3,1,\"banking\",\"production\","),
            "{line}"
        );
        assert!(line.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{line}");
        assert!(
            line.contains("\"{\"\"comment\"\":\"\"a \\\"\"quote\\\"\", a comma\"\"}\""),
            "{line}"
        );
        assert!(line.ends_with(",\"\",\"ab\"\r\n"), "{line}");
    }
}
