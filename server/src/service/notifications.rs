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
    /// Out of office: the first and last days away (YYYY-MM-DD, in their zone) and the user
    /// name of who decides in their place; all empty when they are not away.
    pub away_from: String,
    pub away_until: String,
    pub delegate: String,
    /// The zone the person sees times in now (their browser's without one on their profile):
    /// away days are read in it when the form names none.
    pub shown_zone: String,
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
    let zone = if time_zone.is_empty() {
        form.shown_zone.as_str()
    } else {
        &time_zone
    };
    let away = away(db, user_id, &form, zone, &mut errors).await?;
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let profile = Profile {
        email,
        time_zone,
        mail_prefs: prefs_for(&form.mailed, form.digest),
    };
    users::set_profile(db, user_id, &profile, away).await?;
    Ok(())
}

/// The absence the form describes, as (from, until, delegate): the first instant of the first
/// day and of the day after the last, in `zone`. Mistakes go to `errors`, under their field.
async fn away(
    db: &Db,
    user_id: i64,
    form: &ProfileForm,
    zone: &str,
    errors: &mut crate::domain::request::FieldErrors,
) -> Result<Option<(i64, i64, i64)>> {
    let (from, until, delegate) = (
        form.away_from.trim(),
        form.away_until.trim(),
        form.delegate.trim(),
    );
    if from.is_empty() && until.is_empty() && delegate.is_empty() {
        return Ok(None);
    }
    let mut fail = |field: &str, message: String| {
        errors.insert(field.to_owned(), message);
    };
    let day = |field: &str, text: &str, missing: &str, fail: &mut dyn FnMut(&str, String)| {
        if text.is_empty() {
            fail(field, missing.to_owned());
            return None;
        }
        let parsed = text.parse::<jiff::civil::Date>().ok();
        if parsed.is_none() {
            fail(
                field,
                format!("{text:?} is not a date; write it as 2026-12-24."),
            );
        }
        parsed
    };
    let first = day(
        "away_from",
        from,
        "Give the first day you are away.",
        &mut fail,
    );
    let last = day(
        "away_until",
        until,
        "Give the last day you are away.",
        &mut fail,
    );
    let delegate_id = if delegate.is_empty() {
        fail(
            "delegate",
            "Name who decides in your place while you are away.".into(),
        );
        None
    } else {
        match users::by_username(db, delegate).await? {
            None => {
                fail("delegate", format!("There is no user {delegate:?}."));
                None
            }
            Some(d) if d.id == user_id => {
                fail(
                    "delegate",
                    "Name someone else: you are the one away.".into(),
                );
                None
            }
            Some(d) => Some(d.id),
        }
    };
    let (Some(first), Some(last), Some(delegate_id)) = (first, last, delegate_id) else {
        return Ok(None);
    };
    if last < first {
        fail("away_until", "The last day comes before the first.".into());
        return Ok(None);
    }
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let start = |d: jiff::civil::Date| {
        tz.to_timestamp(d.at(0, 0, 0, 0))
            .map(|t| t.as_millisecond())
            .unwrap_or_default()
    };
    let after = last.tomorrow().unwrap_or(last);
    Ok(Some((start(first), start(after), delegate_id)))
}
