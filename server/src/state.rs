//! What every request handler and worker shares.

use crate::auth::throttle::LoginThrottle;
use crate::catalog::store::CatalogStore;
use crate::config::Settings;
use crate::db::Db;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned for every call a handler takes, so it is one shared pointer to the parts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: Db,
    /// What the API keeps in memory beside the database: live tokens, the gate's answers, and
    /// the gate's record writer.
    pub gate: Arc<crate::gate::cache::ApiCache>,
    pub settings: Arc<Settings>,
    pub catalog: Arc<CatalogStore>,
    pub throttle: Arc<LoginThrottle>,
    /// Sign-in through the company's OpenID provider, when one is set up.
    pub oidc: Option<Arc<crate::auth::oidc::Provider>>,
    /// The Insights reports computed, kept while nothing they are computed from changes.
    pub reports: Arc<crate::service::reports::Reports>,
    pub leptos: LeptosOptions,
    /// Flips to true when the server stops, ending the live streams.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
