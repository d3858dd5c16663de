//! Types shared by the browser and the server.

mod accounts;
mod calendar;
mod error;
mod inbox;
mod insights;
mod pipelines;
mod requests;

pub use accounts::*;
pub use calendar::*;
pub use error::ApiError;
pub use inbox::*;
pub use insights::*;
pub use pipelines::*;
pub use requests::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, as pages see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub teams: Vec<TeamRef>,
    pub roles: Roles,
    /// The zone times are shown in: their profile's, else their browser's, else UTC.
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRef {
    pub id: String,
    pub name: String,
}

/// What the user's teams let them do, derived from the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub requester: bool,
    pub approver: bool,
    pub ops: bool,
    pub admin: bool,
}

impl Roles {
    pub fn labels(self) -> Vec<&'static str> {
        [
            (self.requester, "requester"),
            (self.approver, "approver"),
            (self.ops, "ops"),
            (self.admin, "admin"),
        ]
        .into_iter()
        .filter_map(|(on, label)| on.then_some(label))
        .collect()
    }
}

/// The home page: what the viewer may request, and under which policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeView {
    pub applications: Vec<AppSummary>,
    pub catalog_empty: bool,
    /// The viewer's own requests: open first, then the latest finished.
    #[serde(default)]
    pub mine: Vec<RequestLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub environments: Vec<EnvSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvSummary {
    pub id: String,
    pub name: String,
    /// "Production: 1 of Banking owners, then 2 of CAB; you cannot approve your own request".
    pub policy: String,
    /// Windows, lifetime and freezes in words; empty when there are none.
    pub constraints: Vec<String>,
    pub requesters: String,
    pub ci: Option<String>,
}

/// The read-only catalog page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub version: Option<CatalogVersionView>,
    pub teams: Vec<TeamView>,
    pub applications: Vec<AppSummary>,
    pub windows: Vec<String>,
    pub freezes: Vec<String>,
    /// Filled for admins only.
    pub history: Vec<CatalogVersionView>,
    pub can_reload: bool,
    /// What the admin's last re-apply did, shown once.
    pub reload: Option<ReloadOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub ops: bool,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersionView {
    pub id: i64,
    pub checksum: String,
    pub origin: String,
    /// RFC 3339, UTC.
    pub applied_at: String,
}

/// What re-applying the catalog file did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReloadOutcome {
    Applied(CatalogVersionView),
    Unchanged(CatalogVersionView),
    /// The file was refused; the running version stays. The text lists every mistake.
    Rejected(String),
}

/// What the login page shows before anyone signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginInfo {
    /// Demo accounts (demo mode only): (user name, what they do).
    pub demo_users: Vec<(String, String)>,
    pub demo_password: Option<String>,
    /// "Sign in with …", when the company's OpenID provider is set up.
    pub provider: Option<ProviderSignIn>,
    /// Whether everyone may sign in with a password (else only break-glass accounts).
    pub passwords: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSignIn {
    pub label: String,
    /// False when the provider cannot be reached (the cause is in the log).
    pub available: bool,
}

/// A message carried across a redirect (the "flash"), shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

/// What a form post left for its page, shown once: the notice of its outcome, the values typed
/// (the form is filled in with them again) and a message for each refused field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Posted {
    pub notice: Option<Notice>,
    pub values: std::collections::BTreeMap<String, String>,
    pub errors: Vec<(String, String)>,
}

impl Posted {
    /// The value typed in `field`, or `default` when the form was not posted.
    pub fn value_or(&self, field: &str, default: &str) -> String {
        self.values
            .get(field)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// Whether a checkbox is ticked: as posted, or `default` when the form was not posted.
    pub fn ticked_or(&self, field: &str, default: bool) -> bool {
        if self.values.is_empty() {
            default
        } else {
            self.values.contains_key(field)
        }
    }
}
