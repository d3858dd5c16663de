//! The account administration page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountsView {
    pub accounts: Vec<AccountLine>,
    /// (id, name) of every team the catalog defines, for the forms.
    pub teams: Vec<(String, String)>,
    /// The search the list answers.
    pub query: String,
    /// The viewer's own id: some actions are not offered on one's own account.
    pub me: i64,
    pub posted: super::Posted,
    /// A password just made: shown this once.
    pub secret: Option<NewSecret>,
    /// The newest entries of the administration trail.
    pub recent: Vec<AdminLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub teams: Vec<String>,
    pub admin: bool,
    /// When it was disabled, if it is.
    pub disabled: Option<String>,
    pub created: String,
    /// Sessions open now.
    pub sessions: i64,
    /// Signs in through the company's identity provider, which sets their teams; no password.
    pub via_provider: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSecret {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminLine {
    pub at: String,
    pub actor: String,
    pub text: String,
}
