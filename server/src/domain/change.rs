//! What kind of change a request is: a normal one, an emergency (break-glass) change raised with
//! a justification under its environment's emergency path, or a rollback of an earlier request
//! under its rollback path. Pure.

use super::request::{FieldErrors, RawDraft};
use super::text;

/// The longest justification an emergency change takes.
pub const MAX_JUSTIFICATION: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Normal,
    Emergency {
        justification: String,
    },
    /// Deploys again the last version that succeeded before request `of`.
    Rollback {
        of: i64,
    },
    /// Met the environment's standard-change rule named `rule`: approved as it was opened.
    Standard {
        rule: String,
    },
}

impl Change {
    /// As stored and as the API and the pages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Normal => "normal",
            Change::Emergency { .. } => "emergency",
            Change::Rollback { .. } => "rollback",
            Change::Standard { .. } => "standard",
        }
    }

    /// From the stored kind, justification and rolled-back request; an unknown kind reads as
    /// normal.
    pub fn stored(kind: &str, justification: String, rollback_of: Option<i64>) -> Change {
        match (kind, rollback_of) {
            ("emergency", _) => Change::Emergency { justification },
            ("rollback", Some(of)) => Change::Rollback { of },
            ("standard", _) => Change::Standard {
                rule: justification,
            },
            _ => Change::Normal,
        }
    }

    /// The note stored beside the kind: an emergency's justification, a standard change's rule.
    pub fn note(&self) -> &str {
        match self {
            Change::Emergency { justification } => justification,
            Change::Standard { rule } => rule,
            Change::Normal | Change::Rollback { .. } => "",
        }
    }

    /// The request a rollback undoes.
    pub fn rollback_of(&self) -> Option<i64> {
        match self {
            Change::Rollback { of } => Some(*of),
            _ => None,
        }
    }

    pub fn is_emergency(&self) -> bool {
        matches!(self, Change::Emergency { .. })
    }
}

/// The change a form or a pipeline asks for (a standard change is not asked for: the portal finds
/// it): `change` is empty or `normal`; `emergency` with a
/// justification and no set time (an emergency deploys as soon as it is approved); or `rollback`
/// with the number of the request it rolls back.
pub fn requested(raw: &RawDraft) -> Result<Change, FieldErrors> {
    let mut errors = FieldErrors::new();
    let change = match raw.change.trim() {
        "" | "normal" => Change::Normal,
        "emergency" => {
            let justification = raw.justification.trim();
            if justification.is_empty() {
                errors.insert(
                    "justification".into(),
                    "Required for an emergency change: say why it cannot wait.".into(),
                );
            } else if let Some(p) = text::block_problem(justification, MAX_JUSTIFICATION) {
                errors.insert("justification".into(), p);
            }
            if !raw.scheduled_local.trim().is_empty() {
                errors.insert(
                    "scheduled_local".into(),
                    "An emergency change deploys as soon as it is approved: leave the time empty."
                        .into(),
                );
            }
            Change::Emergency {
                justification: justification.to_owned(),
            }
        }
        "rollback" => match raw.rollback_of.trim().parse::<i64>() {
            Ok(of) if of > 0 => Change::Rollback { of },
            _ => {
                errors.insert(
                    "rollback_of".into(),
                    "Name the request this rolls back by its number.".into(),
                );
                Change::Normal
            }
        },
        _ => {
            errors.insert(
                "change".into(),
                "Choose normal, emergency or rollback.".into(),
            );
            Change::Normal
        }
    };
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(change: &str, justification: &str, at: &str) -> RawDraft {
        RawDraft {
            change: change.into(),
            justification: justification.into(),
            scheduled_local: at.into(),
            ..RawDraft::default()
        }
    }

    #[test]
    fn a_normal_change_needs_nothing_more() {
        assert_eq!(requested(&raw("", "", "")), Ok(Change::Normal));
        assert_eq!(
            requested(&raw("normal", "", "2030-01-01T10:00")),
            Ok(Change::Normal)
        );
    }

    #[test]
    fn a_rollback_names_the_request_it_rolls_back() {
        let mut rollback = raw("rollback", "", "");
        rollback.rollback_of = " 12 ".into();
        assert_eq!(requested(&rollback), Ok(Change::Rollback { of: 12 }));
        rollback.rollback_of = "twelve".into();
        let errors = requested(&rollback).expect_err("bad");
        assert!(errors.contains_key("rollback_of"));
    }

    #[test]
    fn an_emergency_needs_a_justification_and_no_set_time() {
        assert_eq!(
            requested(&raw("emergency", "  Payments fail for 3% of cards ", "")),
            Ok(Change::Emergency {
                justification: "Payments fail for 3% of cards".into()
            })
        );
        let errors = requested(&raw("emergency", "  ", "2030-01-01T10:00")).expect_err("bad");
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["justification", "scheduled_local"]
        );
        let errors = requested(&raw("urgent", "", "")).expect_err("bad");
        assert_eq!(errors["change"], "Choose normal, emergency or rollback.");
    }
}
