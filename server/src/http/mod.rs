//! The axum router: pages, server functions, sign-in, health, the API, and the layers in front
//! of them all.

mod accounts;
pub mod api;
pub mod api_doc;
pub mod assets;
mod audit;
mod calendar;
mod client;
mod csp;
mod csrf;
mod events;
mod forms;
mod health;
mod inbox;
mod insights;
mod login;
mod oidc;
pub mod problem;
mod requests;
mod tools;
mod viewer;

use crate::state::AppState;
use crate::ui::backend::PortalBackend;
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
use tower::{Layer, ServiceExt};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The largest form a page posts: room for every field of a request at its longest,
/// percent-encoded, and for an over-long paste to be refused with its field named (a larger body
/// is answered 413 before any of it is read into the session).
const PAGE_BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn router(state: AppState, digests: assets::Digests) -> Router {
    let backend: SharedBackend = Arc::new(PortalBackend {
        state: state.clone(),
    });
    let context = {
        let backend = backend.clone();
        move || {
            provide_context(backend.clone());
            provide_context(app::backend::QueueMemo::default());
            csp::provide();
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

    let bundle = assets::bundle(&state.settings.site_dir, digests);
    let pages = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/login", post(login::submit))
        .route("/logout", post(login::logout))
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/callback", get(oidc::callback))
        .route("/events", get(events::stream))
        .route("/requests", post(requests::submit))
        .route("/requests/{id}/decision", post(requests::decide))
        .route("/requests/{id}/cancel", post(requests::cancel))
        .route("/requests/{id}/edit", post(requests::edit))
        .route("/requests/{id}/retry", post(requests::retry))
        .route("/requests/{id}/stop", post(requests::stop))
        .route("/admin/users/new", post(accounts::create))
        .route("/admin/users/{id}/{action}", post(accounts::change))
        .route("/admin/tokens/new", post(tools::create_token))
        .route("/admin/tokens/{id}/revoke", post(tools::revoke_token))
        .route("/gate/dry-run", post(tools::dry_run))
        .route("/catalog/reload", post(tools::reload_catalog))
        .route("/tickets/{id}/work", post(tools::work_ticket))
        .route("/inbox/read", post(inbox::read))
        .route("/calendar/feed", post(calendar::make))
        .route("/calendar/feed/revoke", post(calendar::revoke))
        .route("/calendar.ics", get(calendar::feed))
        .route("/profile", post(inbox::save_profile))
        .route("/audit/export", get(audit::export))
        .route("/insights/deployments.csv", get(insights::deployments_csv))
        .route("/rpc/{*name}", any(server_fn))
        .leptos_routes_with_context(&state, route_list(), context.clone(), move || {
            app::shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            viewer::attach,
        ))
        .layer(axum::middleware::from_fn(malformed_calls_are_bad_requests))
        .layer(axum::extract::DefaultBodyLimit::max(PAGE_BODY_LIMIT))
        .layer(axum::Extension(backend))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::same_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csp::protect,
        ));
    // The bundle's files need no session nor viewer: they are served beside those layers.
    let pages = assets::pages(Router::new().nest_service("/pkg", bundle).merge(pages));

    // The API carries its own credentials: no session, no viewer lookup.
    let api = axum::extract::DefaultBodyLimit::max(api::BODY_LIMIT)
        .layer(api::router().with_state(state.clone()));
    let routers = Split {
        api,
        pages: pages.with_state(state),
    };
    // What every answer goes through, around both routers once. Not `Router::layer`: that wraps
    // every route in each layer, and axum clones a route's whole stack for each call, which
    // cost the gate a fifth of its time.
    let front = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::default()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .service(routers);
    Router::new().fallback_service(front)
}

/// A service that answers every request, as a router does.
trait Answers:
    tower::Service<Request<Body>, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
}

impl<T> Answers for T where
    T: tower::Service<
            Request<Body>,
            Response = Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// The API's router for paths under `/api/v1`, the pages' for the rest.
#[derive(Clone)]
struct Split<A, P> {
    api: A,
    pages: P,
}

/// Whether a path is the API's: `/api/v1` and below.
fn is_api(path: &str) -> bool {
    path.strip_prefix("/api/v1")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl<A: Answers, P: Answers> tower::Service<Request<Body>> for Split<A, P> {
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::Either<
        tower::util::Oneshot<A, Request<Body>>,
        tower::util::Oneshot<P, Request<Body>>,
    >;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        use futures_util::future::Either;
        if is_api(req.uri().path()) {
            Either::Left(self.api.clone().oneshot(req))
        } else {
            Either::Right(self.pages.clone().oneshot(req))
        }
    }
}

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

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

async fn server_fn(
    axum::Extension(backend): axum::Extension<SharedBackend>,
    State(_): State<AppState>,
    req: Request<Body>,
) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(backend.clone()), req).await
}

/// The pages' routes, listed once per process. Listing them renders the app with every
/// resource's load suppressed through a flag leptos keeps for the whole process: a page rendered
/// meanwhile by another portal in the same process (the tests start many) would wait for its data
/// forever. Listed once, before any portal of the process can serve, no render ever meets it.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
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
