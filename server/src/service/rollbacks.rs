//! Rollbacks: what rolling a request back would deploy, and the checks a rollback passes. A
//! rollback brings back the last other version that succeeded at the same application and
//! environment, once the request it undoes was deployed or failed.

use super::error::{Error, Result};
use crate::db::requests::{self as q, RequestRow};
use crate::db::Write;
use crate::domain::request::{Draft, State};
use sqlx::Any;

/// The version a rollback of a request brings back, the request that deployed it and its
/// artifact (empty when it named none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub version: String,
    pub deployed_by: i64,
    pub artifact: String,
}

/// Why a request cannot be rolled back.
pub fn cannot(of: i64) -> String {
    format!(
        "Request #{of} cannot be rolled back: only a deployed or failed request can, to another \
         version that succeeded here before."
    )
}

/// What rolling back `original` would deploy; `None` while it has not been deployed or failed,
/// for a pipeline that deploys itself, or when no other version ever succeeded there.
pub async fn target(
    exec: impl sqlx::Executor<'_, Database = Any>,
    original: &RequestRow,
) -> Result<Option<Target>> {
    if !matches!(original.state, State::Succeeded | State::Failed) || original.self_deploy {
        return Ok(None);
    }
    let (app, env) = (&original.application_id, &original.environment_id);
    Ok(q::last_success(exec, app, env, Some(&original.version))
        .await?
        .map(|(version, deployed_by, artifact)| Target {
            version,
            deployed_by,
            artifact,
        }))
}

/// Checks a rollback of request `of`, opened for `application` to `environment` with `draft`:
/// the request must be of that target, deployed or failed, and the version and artifact those
/// of the last other version that succeeded there.
pub(super) async fn check(
    tx: &mut Write,
    (application, environment): (&str, &str),
    of: i64,
    draft: &Draft,
) -> Result<()> {
    let original = q::get(&mut ***tx, of)
        .await?
        .filter(|o| o.application_id == application && o.environment_id == environment)
        .ok_or_else(|| {
            Error::invalid(
                "rollback_of",
                format!("Request #{of} is not one of this application and environment."),
            )
        })?;
    let Some(target) = target(&mut ***tx, &original).await? else {
        return Err(Error::invalid("rollback_of", cannot(of)));
    };
    if target.version != draft.version {
        return Err(Error::invalid(
            "version",
            format!(
                "A rollback of request #{of} deploys {}, the last other version that succeeded \
                 here.",
                target.version
            ),
        ));
    }
    if target.artifact != draft.artifact {
        return Err(Error::invalid(
            "artifact",
            format!(
                "A rollback to {} deploys the artifact deployed with it: {}.",
                target.version,
                if target.artifact.is_empty() {
                    "none named"
                } else {
                    target.artifact.as_str()
                }
            ),
        ));
    }
    Ok(())
}
