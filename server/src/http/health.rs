use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The process answers.
pub async fn alive() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable or migrations missing",
        )
    }
}
