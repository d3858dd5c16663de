use crate::model::*;
use leptos::prelude::*;

/// The change calendar: `month` (`2026-12`) or `week` (`2026-W51`), else this week; filtered by
/// team and application.
#[server(prefix = "/rpc", endpoint = "calendar")]
pub async fn get_calendar(
    #[server(default)] month: String,
    #[server(default)] week: String,
    #[server(default)] team: String,
    #[server(default)] application: String,
) -> Result<CalendarView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .calendar(&viewer, (month, week), team, application)
        .await
        .map_err(crate::backend::with_status)
}
