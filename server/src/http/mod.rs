//! The axum router: pages, server functions, sign-in, health, and the layers around them.

pub mod api;
mod events;
mod health;
mod login;
mod requests;
mod viewer;

use crate::service::backend::PortalBackend;
use crate::state::AppState;
use app::backend::SharedBackend;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tower::ServiceExt;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(PortalBackend {
        state: state.clone(),
    });
    let context = {
        let backend = backend.clone();
        move || {
            provide_context(backend.clone());
            provide_context(app::backend::QueueMemo::default());
        }
    };
    let leptos = state.leptos.clone();
    let sessions =
        SessionManagerLayer::new(crate::db::sessions::SqlSessionStore::new(state.db.clone()))
            .with_name("runway_session")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(state.settings.secure_cookies())
            .with_expiry(Expiry::OnInactivity(Duration::minutes(
                state.settings.session_idle_minutes,
            )));

    let pages = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/login", post(login::submit))
        .route("/logout", post(login::logout))
        .route("/events", get(events::stream))
        .route("/requests", post(requests::submit))
        .route("/requests/{id}/decision", post(requests::decide))
        .route("/requests/{id}/cancel", post(requests::cancel))
        .route("/requests/{id}/edit", post(requests::edit))
        .route("/requests/{id}/retry", post(requests::retry))
        .route("/requests/{id}/stop", post(requests::stop))
        .route("/rpc/{*name}", any(server_fn))
        .leptos_routes_with_context(&state, generate_route_list(app::App), context, move || {
            app::shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            viewer::attach,
        ))
        .layer(axum::middleware::from_fn(malformed_calls_are_bad_requests))
        .layer(axum::Extension(backend))
        .layer(sessions);

    // The API carries its own credentials: no session, no viewer lookup.
    let api = tower::Layer::layer(
        &axum::extract::DefaultBodyLimit::max(api::BODY_LIMIT),
        api::router().with_state(state.clone()),
    );
    Router::new().fallback_service(Front {
        ids: RequestIds::default(),
        api,
        pages: pages.with_state(state),
    })
}

/// Whether a path is the API's: `/api/v1` and below.
fn is_api(path: &str) -> bool {
    path.strip_prefix("/api/v1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What every answer goes through, the API's and the pages': the request id (the caller's
/// `x-request-id`, or a new one), the log span and lines, and the security headers. One service
/// in front of the two routers rather than a stack of layers on the router: axum wraps every
/// route in each layer and clones a route's whole stack for each call, which cost the gate a
/// fifth of its time.
#[derive(Clone)]
struct Front<A, P> {
    ids: RequestIds,
    api: A,
    pages: P,
}

impl<A, P> tower::Service<Request<Body>> for Front<A, P>
where
    A: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    A::Future: Send + 'static,
    P: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    P::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let id = match req.headers().get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = self.ids.next();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id.to_str().unwrap_or_default(),
        );
        let api = is_api(req.uri().path()).then(|| self.api.clone());
        let pages = self.pages.clone();
        let answer = async move {
            let started = Instant::now();
            tracing::debug!("started processing request");
            let Ok(mut response) = match api {
                Some(api) => api.oneshot(req).await,
                None => pages.oneshot(req).await,
            };
            let latency = started.elapsed();
            let status = response.status();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), ?latency, "response failed");
            } else {
                tracing::debug!(
                    status = status.as_u16(),
                    ?latency,
                    "finished processing request"
                );
            }
            let headers = response.headers_mut();
            headers.entry(REQUEST_ID).or_insert(id);
            for (name, value) in SECURITY_HEADERS {
                headers.insert(name, HeaderValue::from_static(value));
            }
            Ok(response)
        };
        Box::pin(answer.instrument(span))
    }
}

/// On every answer: no MIME sniffing, no framing by other sites, no referrer to other origins.
const SECURITY_HEADERS: [(HeaderName, &str); 3] = [
    (HeaderName::from_static("x-content-type-options"), "nosniff"),
    (HeaderName::from_static("x-frame-options"), "DENY"),
    (HeaderName::from_static("referrer-policy"), "same-origin"),
];

/// Request ids for the logs and the `x-request-id` header: a random prefix of this process and
/// a counter, unique across replicas without asking the system for randomness on every call.
#[derive(Clone)]
struct RequestIds {
    prefix: u32,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds {
            prefix: rand::random(),
            next: Arc::default(),
        }
    }
}

impl RequestIds {
    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::try_from(format!("{:08x}-{n:x}", self.prefix))
            .expect("hex digits and a dash are a valid header value")
    }
}

async fn server_fn(
    axum::Extension(backend): axum::Extension<SharedBackend>,
    State(_): State<AppState>,
    req: Request<Body>,
) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(backend.clone()), req).await
}

/// Server-function arguments are decoded before any of our code runs, so a malformed call
/// comes back as a 500; answer it as the client's mistake it is.
async fn malformed_calls_are_bad_requests(
    req: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let rpc = req.uri().path().starts_with("/rpc/");
    let response = next.run(req).await;
    if !rpc || response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    if matches!(
        serde_json::from_slice(&bytes),
        Ok(app::model::ApiError::BadRequest(_))
    ) {
        parts.status = axum::http::StatusCode::BAD_REQUEST;
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}
