//! The daily digest: for those who asked for it, what they would have been mailed since the last
//! one, in one message at 08:00 in their time zone (UTC without one).

use super::mail::{one_line, Rendered};
use super::worker::{host, Mailer};
use crate::db::digests::{self, Subscriber, Told};
use crate::db::{now_ms, Db};
use crate::domain::notice::{digest, mailed, Kind};
use askama::Template;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The local hour the digest goes at.
const HOUR: i8 = 8;
/// Notifications listed in one digest; the rest are counted and left to the inbox.
const LISTED: usize = 50;
/// A digest covers what was told up to this long ago: a change's notifications carry the time
/// its transaction began, and one still committing must not fall between two digests.
const SETTLE_MS: i64 = 60_000;

/// The latest 08:00 in `zone` at or before `now_ms`.
pub fn latest_slot(now_ms: i64, zone: &str) -> Option<i64> {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let now = Timestamp::from_millisecond(now_ms).ok()?;
    let mut date = now.to_zoned_datetime(tz.clone()).date();
    for _ in 0..2 {
        let slot = tz
            .to_timestamp(date.at(HOUR, 0, 0, 0))
            .ok()?
            .as_millisecond();
        if slot <= now_ms {
            return Some(slot);
        }
        date = date.yesterday().ok()?;
    }
    None
}

/// One listed notification.
#[derive(Debug, Clone)]
pub struct Item {
    pub at: String,
    pub subject: String,
    pub detail: String,
    pub link: String,
}

/// What the digest templates read.
#[derive(Debug, Clone)]
pub struct View {
    pub subject: String,
    pub items: Vec<Item>,
    pub more: usize,
    pub inbox: String,
    pub profile: String,
}

#[derive(Template)]
#[template(path = "mail/digest.txt")]
struct Text<'a> {
    m: &'a View,
}

#[derive(Template)]
#[template(path = "mail/digest.html")]
struct Html<'a> {
    m: &'a View,
}

/// The digest of `told` (already chosen), shown in `zone`, linking to the portal at `base_url`.
pub fn view(told: &[Told], zone: &str, base_url: &str) -> View {
    let base = base_url.trim_end_matches('/');
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let n = told.len();
    View {
        subject: format!(
            "Your Runway digest: {n} notification{}",
            if n == 1 { "" } else { "s" }
        ),
        items: told
            .iter()
            .take(LISTED)
            .map(|t| Item {
                at: Timestamp::from_millisecond(t.created_at)
                    .map(|at| {
                        at.to_zoned_datetime(tz.clone())
                            .strftime("%a %d %b %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
                subject: t.subject.clone(),
                detail: t.detail.clone(),
                link: format!("{base}/requests/{}", t.request_id),
            })
            .collect(),
        more: n.saturating_sub(LISTED),
        inbox: format!("{base}/inbox"),
        profile: format!("{base}/profile"),
    }
}

pub fn render(m: &View) -> Result<Rendered, askama::Error> {
    Ok(Rendered {
        subject: one_line(&m.subject),
        text: Text { m }.render()?,
        html: Html { m }.render()?,
    })
}

/// Sends every digest due at `now`; returns how many went. Each is taken by moving its person's
/// last-digest time first, so two replicas never both send it; a send that fails moves it back,
/// to be tried on the next round.
pub async fn send_due(db: &Db, mailer: &Mailer, now: i64) -> anyhow::Result<usize> {
    let mut sent = 0;
    for s in digests::subscribers(db, now).await? {
        if !digest(&s.mail_prefs) {
            continue;
        }
        sent += usize::from(send_one(db, mailer, &s, now).await?);
    }
    Ok(sent)
}

async fn send_one(db: &Db, mailer: &Mailer, s: &Subscriber, now: i64) -> anyhow::Result<bool> {
    let upto = now - SETTLE_MS;
    let Some(slot) = latest_slot(upto, &s.time_zone) else {
        return Ok(false);
    };
    let Some(since) = s.sent_at else {
        // First seen asking: what came before was mailed one by one already.
        digests::advance(db, s.user_id, None, Some(upto)).await?;
        return Ok(false);
    };
    if since >= slot || !digests::advance(db, s.user_id, Some(since), Some(upto)).await? {
        return Ok(false);
    }
    let told: Vec<Told> = digests::told_between(db, s.user_id, since, upto, 1000)
        .await?
        .into_iter()
        .filter(|t| Kind::parse(&t.kind).is_some_and(|k| mailed(k, &s.mail_prefs)))
        .collect();
    if told.is_empty() {
        return Ok(false);
    }
    let rendered = render(&view(&told, &s.time_zone, &mailer.public_url))?;
    let id = format!(
        "<runway.digest.{}.{slot}@{}>",
        s.user_id,
        host(&mailer.public_url)
    );
    match mailer
        .transport
        .send(&mailer.from, &s.email, &id, &rendered)
        .await
    {
        Ok(()) => {
            tracing::info!(user = s.user_id, notifications = told.len(), "digest sent");
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(user = s.user_id, error = %e, "digest not sent; tried again later");
            digests::advance(db, s.user_id, Some(upto), Some(since)).await?;
            Ok(false)
        }
    }
}

/// Sends the digests due now.
pub async fn run_once(db: &Db, mailer: &Mailer) {
    if let Err(e) = send_due(db, mailer, now_ms()).await {
        tracing::warn!(error = %e, "cannot send the daily digests");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().expect("timestamp").as_millisecond()
    }

    #[test]
    fn the_digest_goes_at_eight_in_the_persons_zone() {
        // 07:30 in Paris (06:30 UTC): yesterday's 08:00 is the latest.
        assert_eq!(
            latest_slot(ms("2026-12-02T06:30:00Z"), "Europe/Paris"),
            Some(ms("2026-12-01T07:00:00Z"))
        );
        assert_eq!(
            latest_slot(ms("2026-12-02T07:00:00Z"), "Europe/Paris"),
            Some(ms("2026-12-02T07:00:00Z"))
        );
        // Without a zone, UTC.
        assert_eq!(
            latest_slot(ms("2026-12-02T09:00:00Z"), ""),
            Some(ms("2026-12-02T08:00:00Z"))
        );
    }

    #[test]
    fn the_digest_lists_escapes_and_counts_the_rest() {
        let told: Vec<Told> = (0..52)
            .map(|i| Told {
                request_id: i,
                kind: "rejected".into(),
                subject: format!("Rejected: Banking 2.4.{i} to Production"),
                detail: "Not <b>now</b>".into(),
                created_at: ms("2026-12-01T10:00:00Z"),
            })
            .collect();
        let v = view(&told, "Europe/Paris", "https://runway.example/");
        assert_eq!(v.subject, "Your Runway digest: 52 notifications");
        assert_eq!(v.items.len(), 50);
        assert_eq!(v.more, 2);
        assert_eq!(v.items[0].at, "Tue 01 Dec 11:00");
        let r = render(&v).expect("rendered");
        assert!(
            r.text.contains("https://runway.example/requests/0"),
            "{}",
            r.text
        );
        assert!(r.text.contains("… and 2 more in your inbox"), "{}", r.text);
        assert!(
            r.html.contains("Not &#60;b&#62;now&#60;/b&#62;")
                || r.html.contains("Not &lt;b&gt;now"),
            "{}",
            r.html
        );
        let one = render(&view(&told[..1], "", "http://x")).expect("rendered");
        insta::assert_snapshot!("digest_text", one.text);
        insta::assert_snapshot!("digest_html", one.html);
    }
}
