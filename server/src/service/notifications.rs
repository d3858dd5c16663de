//! A person's own notifications and profile: marking read, choosing what is mailed.

use crate::db::notifications as n;
use crate::db::users::{self, Profile};
use crate::db::{now_ms, Db};
use crate::domain::notice::{prefs_for, Kind};
use crate::domain::text::email_problem;
use crate::service::error::{Error, Result};

/// Marks one of the person's notifications read, or all of them; their open pages hear of it.
pub async fn mark_read(db: &Db, user_id: i64, id: Option<i64>) -> Result<u64> {
    let mut tx = db.write().await?;
    let done = n::mark_read(&mut tx, user_id, id, now_ms()).await?;
    if done == 0 && id.is_some() {
        return Err(Error::NotFound(
            "No such unread notification of yours.".into(),
        ));
    }
    tx.tell(user_id);
    tx.commit_unseen().await?;
    Ok(done)
}

/// A profile as the form sends it.
pub struct ProfileForm {
    pub email: String,
    pub time_zone: String,
    /// The kinds ticked to be mailed.
    pub mailed: Vec<Kind>,
    /// One digest a day instead of single mails.
    pub digest: bool,
}

/// Checks and saves a profile; a refused one names each field at fault and changes nothing.
pub async fn save_profile(db: &Db, user_id: i64, form: ProfileForm) -> Result<()> {
    let email = form.email.trim().to_owned();
    let time_zone = form.time_zone.trim().to_owned();
    let mut errors = crate::domain::request::FieldErrors::new();
    if !email.is_empty() {
        if let Some(problem) = email_problem(&email) {
            errors.insert("email".into(), problem);
        }
    }
    if !time_zone.is_empty() && jiff::tz::TimeZone::get(&time_zone).is_err() {
        errors.insert(
            "time_zone".into(),
            format!("{time_zone:?} is not a time zone; use an IANA name such as Europe/Paris."),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let profile = Profile {
        email,
        time_zone,
        mail_prefs: prefs_for(&form.mailed, form.digest),
    };
    users::set_profile(db, user_id, &profile).await?;
    Ok(())
}
