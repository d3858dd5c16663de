//! `/api/v1`: what CI servers call, with `Authorization: Bearer <token>`. Errors are JSON
//! problem answers (RFC 9457) that name the field at fault.

use super::problem::{body, Problem};
use crate::service::gate::{self, GateInput};
use crate::service::pipeline_requests::{self, NewRequestInput};
use crate::service::stage_results::{self, StageInput};
use crate::service::tokens;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// The largest body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The API's routes, by their full paths: `http::router` sends it every path under `/api/v1`
/// (anything else there is the problem answer of `no_such_endpoint`), with bodies limited to
/// `BODY_LIMIT`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/gate", post(gate))
        .route("/api/v1/requests", post(open_request))
        .route("/api/v1/requests/{id}", get(request_status))
        .route("/api/v1/requests/{id}/events", post(stage_result))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/metrics/dora", get(dora))
        .fallback(no_such_endpoint)
        .method_not_allowed_fallback(wrong_method)
}

/// The API's description, generated from the handlers and types below.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Runway API",
        description = "What CI servers call: the deployment gate, pipeline-opened requests, stage results and the audit trail. \
            Authenticate with `Authorization: Bearer <token>`; administrators make tokens on the portal's API tokens page.",
    ),
    paths(gate, open_request, request_status, stage_result, audit, dora),
    components(schemas(
        ProblemDoc, FieldError, AuditPage, AuditEntry, DoraReport, Measure, Week, CommitInput,
        LeadTimeBreakdown, ApplicationLeadTime, Segment, Durations, StageWait, TeamAnswer
    )),
    modifiers(&BearerAuth, &Unreadable),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token, rwy_…"))
                    .build(),
            ),
        );
    }
}

/// Every operation may answer 400: a body that is not JSON, or a query that does not parse.
struct Unreadable;

impl utoipa::Modify for Unreadable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answer = ResponseBuilder::new()
            .description("The body is not JSON of this shape, or a parameter cannot be read")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ProblemDoc")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                op.responses
                    .responses
                    .entry("400".into())
                    .or_insert_with(|| answer.clone().into());
            }
        }
    }
}

/// An error answer (RFC 9457), `application/problem+json`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ProblemDoc {
    #[schema(example = "about:blank")]
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    /// The fields at fault, when the input was.
    errors: Option<Vec<FieldError>>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct FieldError {
    field: String,
    message: String,
}

/// The API's description. Called with a live token, it names the applications that token may
/// touch, with their environments and fields; without one, none.
async fn openapi(State(state): State<AppState>, headers: HeaderMap) -> Json<serde_json::Value> {
    let active = state.catalog.current();
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Ok(token) = tokens::authenticate(&state.db, &state.gate, header).await else {
        return Json(super::api_doc::document(None));
    };
    let mut catalog = active.catalog.clone();
    let everything = token.applications.iter().any(|a| a == "*");
    catalog
        .applications
        .retain(|a| everything || token.applications.contains(&a.id));
    Json(super::api_doc::document(Some(&catalog)))
}

/// The live API token a call carries (`Authorization: Bearer rwy_…`); without one, the 401
/// problem answer. Read from the headers alone, before the body.
struct ApiToken(std::sync::Arc<crate::db::tokens::TokenRow>);

impl axum::extract::FromRequestParts<AppState> for ApiToken {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("?"));
        Ok(ApiToken(
            tokens::authenticate(&state.db, &state.gate, header).await?,
        ))
    }
}

fn request_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        Problem::field(
            StatusCode::NOT_FOUND,
            "id",
            format!("{raw} is not a request number."),
        )
    })
}

/// May this release deploy now (or at `at`)? Recorded with every answer.
#[utoipa::path(post, path = "/api/v1/gate", tag = "gate",
    request_body = GateInput,
    responses(
        (status = 200, description = "The answer: allow, deny or pending, and why", body = gate::GateAnswer),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks gate:read or the application", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn gate(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let input: GateInput = body(bytes)?;
    let active = state.catalog.current();
    let answer = gate::gate(
        &state.db,
        &state.gate,
        &active,
        gate::Asker::Token(&token),
        &input,
    )
    .await?;
    Ok(Json(answer).into_response())
}

/// Opens a request for the pipeline. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests",
    request_body = NewRequestInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key with the same body answers with the same request")),
    responses(
        (status = 201, description = "Opened", body = pipeline_requests::RequestStatus),
        (status = 200, description = "Opened before with this key (Idempotent-Replayed: true)", body = pipeline_requests::RequestStatus),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks requests:write or the application; or the user may not request it; or requested_by names someone else without requests:on-behalf", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn open_request(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let input: NewRequestInput = body(bytes)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency-Key",
                "At most 200 visible characters, without spaces.",
            )
        })?),
    };
    let active = state.catalog.current();
    let (id, created) =
        pipeline_requests::open_request(&state.db, &active, &token, &input, key).await?;
    if created {
        let _ = state.db.changes.send(id);
    }
    let status = pipeline_requests::request_status(&state.db, &active, &token, id).await?;
    let mut response = (
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(&status),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/requests/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if !created {
        response.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

use crate::service::audit_export::{self, AuditEntry, AuditPage, ExportFilter, Reader};
use axum::extract::Query;
use axum::http::HeaderName;

/// Where a request stands, for a pipeline that waits on it.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "The request's number")),
    responses(
        (status = 200, description = "Its state", body = pipeline_requests::RequestStatus),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token may not read it", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn request_status(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = request_id(&id)?;
    let active = state.catalog.current();
    Ok(
        Json(pipeline_requests::request_status(&state.db, &active, &token, id).await?)
            .into_response(),
    )
}

/// A stage result of the pipeline, shown on the request's timeline.
#[utoipa::path(post, path = "/api/v1/requests/{id}/events", tag = "requests",
    params(("id" = i64, Path, description = "The request's number")),
    request_body = StageInput,
    responses(
        (status = 201, description = "Recorded"),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks events:write or the application", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn stage_result(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let id = request_id(&id)?;
    let input: StageInput = body(bytes)?;
    let active = state.catalog.current();
    let result =
        stage_results::record_stage(&state.db, &active.catalog, &token, id, &input).await?;
    let _ = state.db.changes.send(id);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": result, "request_id": id })),
    )
        .into_response())
}

async fn no_such_endpoint() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "There is no such API endpoint; see /api/v1/openapi.json.",
    )
}

async fn wrong_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not take this method; see /api/v1/openapi.json.",
    )
}

/// The audit trail, oldest first, a page at a time: for a token of scope `audit:read`, the
/// events of its applications.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(ExportFilter),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks audit:read", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A filter is wrong", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn audit(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    filter: Result<Query<ExportFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let filter = query(filter)?;
    let active = state.catalog.current();
    let q = audit_export::query(&active.catalog, &Reader::Token(&token), &filter)?;
    Ok(Json(audit_export::page(&state.db, &q).await?).into_response())
}

use crate::service::input::CommitInput;
use crate::service::insights::{self, DoraFilter, DoraReport, Measure, Week};
use crate::service::lead_time::{
    ApplicationLeadTime, Durations, LeadTimeBreakdown, Segment, StageWait, TeamAnswer,
};

/// The four DORA metrics of the deployments to an environment, over 30, 90 or 180 days: for a
/// token of scope `metrics:read`, of its applications.
#[utoipa::path(get, path = "/api/v1/metrics/dora", tag = "metrics",
    params(DoraFilter),
    responses(
        (status = 200, description = "The figures, their bands and the weekly trend", body = DoraReport),
        (status = 401, description = "No token, or not a live one", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks metrics:read or the application", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A filter is wrong", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
async fn dora(
    State(state): State<AppState>,
    ApiToken(token): ApiToken,
    filter: Result<Query<DoraFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let filter = query(filter)?;
    let active = state.catalog.current();
    let reader = insights::Reader::Token(&token);
    let answer =
        insights::dora(&state.db, &state.reports, &active.catalog, &reader, &filter).await?;
    Ok(Json(&*answer).into_response())
}

/// The query string as `T`: one that does not parse (a filter given twice, say) is a problem
/// answer too.
fn query<T>(
    parsed: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    parsed
        .map(|Query(q)| q)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))
}
