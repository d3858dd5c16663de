//! `GET /insights/deployments.csv`: the deployments behind the Insights page's figures, for the
//! same filters, as the person reading the page may see them.

use super::audit::refusal;
use super::viewer::SignedIn;
use crate::state::AppState;
use app::model::InsightsFilter;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn deployments_csv(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Query(filter): Query<InsightsFilter>,
) -> Response {
    let dora = crate::ui::insights::filter(&filter);
    match crate::ui::insights::deployments(&state, &viewer, &dora).await {
        Ok(deployments) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"runway-deployments.csv\"",
                ),
            ],
            crate::ui::insights::csv(&deployments),
        )
            .into_response(),
        Err(e) => refusal(e),
    }
}
