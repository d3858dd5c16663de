use crate::model::{ApiError, InboxView, ProfileView};
use leptos::prelude::*;

/// The viewer's notifications, newest first, before `before` (0: from the newest).
#[server(prefix = "/rpc", endpoint = "inbox")]
pub async fn get_inbox(#[server(default)] before: i64) -> Result<InboxView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend.inbox(&viewer, before).await
}

/// How many of the viewer's notifications are unread.
#[server(prefix = "/rpc", endpoint = "inbox/unread")]
pub async fn get_unread() -> Result<i64, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend.unread(&viewer).await
}

#[server(prefix = "/rpc", endpoint = "profile")]
pub async fn get_profile() -> Result<ProfileView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend.profile(&viewer).await
}

/// Administrators: the mail outbox, failures first.
#[server(prefix = "/rpc", endpoint = "admin/mail")]
pub async fn get_mail_outbox() -> Result<crate::model::MailOutboxView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .mail_outbox(&viewer)
        .await
        .map_err(crate::backend::with_status)
}
