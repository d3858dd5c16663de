//! What the administration trail holds: one typed event per thing an administrator (or the
//! command line) did to an account. Stored as its kind and a JSON payload, chained as chain 0
//! (see `audit_chain`). Pure.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum AdminEvent {
    UserCreated {
        user: String,
        display_name: String,
        admin: bool,
        teams: Vec<String>,
    },
    UserDisabled {
        user: String,
        /// How many of their sessions ended with it.
        sessions_ended: u64,
    },
    UserEnabled {
        user: String,
    },
    TeamsSet {
        user: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    PasswordReset {
        user: String,
        sessions_ended: u64,
    },
    AdminGranted {
        user: String,
    },
    AdminRemoved {
        user: String,
    },
    /// A person's first sign-in through the company's identity provider made their account;
    /// they are its actor.
    JoinedThroughProvider {
        user: String,
        display_name: String,
        teams: Vec<String>,
    },
    /// Their groups at the provider changed their teams, seen at a sign-in.
    TeamsFromProvider {
        user: String,
        from: Vec<String>,
        to: Vec<String>,
    },
}

impl AdminEvent {
    /// The kind column and the payload column.
    pub fn to_columns(&self) -> (String, String) {
        let value = serde_json::to_value(self).unwrap_or_default();
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        (kind, value["payload"].to_string())
    }

    pub fn from_columns(kind: &str, payload: &str) -> Option<AdminEvent> {
        let payload: serde_json::Value = serde_json::from_str(payload).ok()?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload })).ok()
    }

    /// The event in words, for the administration page.
    pub fn describe(&self) -> String {
        let list = |teams: &[String]| {
            if teams.is_empty() {
                "no team".to_owned()
            } else {
                teams.join(", ")
            }
        };
        match self {
            AdminEvent::UserCreated {
                user,
                display_name,
                admin,
                teams,
            } => format!(
                "created {user} ({display_name}){}, in {}",
                if *admin { " as an administrator" } else { "" },
                list(teams)
            ),
            AdminEvent::UserDisabled {
                user,
                sessions_ended,
            } => format!("disabled {user}, ending {sessions_ended} session(s)"),
            AdminEvent::UserEnabled { user } => format!("enabled {user}"),
            AdminEvent::TeamsSet { user, from, to } => {
                format!("moved {user} from {} to {}", list(from), list(to))
            }
            AdminEvent::PasswordReset {
                user,
                sessions_ended,
            } => format!("reset the password of {user}, ending {sessions_ended} session(s)"),
            AdminEvent::AdminGranted { user } => format!("made {user} an administrator"),
            AdminEvent::AdminRemoved { user } => format!("removed {user}'s administration rights"),
            AdminEvent::JoinedThroughProvider {
                user,
                display_name,
                teams,
            } => format!(
                "joined as {user} ({display_name}) through the identity provider, in {}",
                list(teams)
            ),
            AdminEvent::TeamsFromProvider { user, from, to } => format!(
                "signed in with new provider groups, moving {user} from {} to {}",
                list(from),
                list(to)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_from_their_columns() {
        let e = AdminEvent::TeamsSet {
            user: "ada".into(),
            from: vec!["fintech".into()],
            to: vec![],
        };
        let (kind, payload) = e.to_columns();
        assert_eq!(kind, "teams_set");
        assert_eq!(payload, r#"{"from":["fintech"],"to":[],"user":"ada"}"#);
        assert_eq!(AdminEvent::from_columns(&kind, &payload), Some(e.clone()));
        assert_eq!(e.describe(), "moved ada from fintech to no team");
        assert_eq!(AdminEvent::from_columns("nonsense", "{}"), None);
    }
}
