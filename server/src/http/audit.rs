//! `GET /audit/export`: the audit trail downloaded by administrators and operations, as JSON
//! Lines or CSV, every event the filters take (read a page at a time, sent as it is read).

use super::viewer::SignedIn;
use crate::service::audit_export::{self, csv_line, ExportFilter, Reader, CSV_HEADER};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Download {
    /// `jsonl` (the default) or `csv`.
    format: Option<String>,
    #[serde(flatten)]
    filter: ExportFilter,
}

/// Events read per page while sending.
const PAGE: i64 = 1000;

pub async fn export(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(download): Query<Download>,
) -> Response {
    let csv = match download.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => false,
        "csv" => true,
        other => {
            let message = format!("format: \"{other}\" is not an export format; use jsonl or csv.");
            return (StatusCode::UNPROCESSABLE_ENTITY, message).into_response();
        }
    };
    let reader = Reader::Person {
        admin: viewer.roles.admin,
        ops: viewer.roles.ops,
    };
    let active = state.catalog.current();
    let mut q = match audit_export::query(&active.catalog, &reader, &download.filter.tidied()) {
        Ok(q) => q,
        Err(e) => return refusal(e),
    };
    q.limit = PAGE;
    let head = csv.then(|| Ok::<_, std::io::Error>(Bytes::from_static(CSV_HEADER.as_bytes())));
    let pages = futures_util::stream::unfold(Some(q), move |q| {
        let db = state.db.clone();
        async move {
            let mut q = q?;
            let page = match audit_export::page(&db, &q).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, "the audit export stopped");
                    return Some((Err(std::io::Error::other("the export stopped")), None));
                }
            };
            let text: String = page
                .events
                .iter()
                .map(|e| match csv {
                    true => csv_line(e),
                    false => serde_json::to_string(e).unwrap_or_default() + "\n",
                })
                .collect();
            let next = page.next_after.map(|after| {
                q.after = after;
                q
            });
            Some((Ok(Bytes::from(text)), next))
        }
    });
    let body = futures_util::stream::StreamExt::chain(futures_util::stream::iter(head), pages);
    let (kind, name) = match csv {
        true => ("text/csv; charset=utf-8", "runway-audit.csv"),
        false => ("application/x-ndjson", "runway-audit.jsonl"),
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

pub(super) fn refusal(e: crate::service::error::Error) -> Response {
    use crate::service::error::Error;
    let status = match &e {
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &e {
        Error::Invalid(fields) => Error::field_words(fields, "\n"),
        Error::Internal(_) => "The export failed; see the portal's log.".to_owned(),
        other => other.to_string(),
    };
    (status, message).into_response()
}
