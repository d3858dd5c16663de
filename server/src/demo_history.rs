//! Ninety days of made-up history for the demo portal, so that its Insights page tells a story on
//! first look. Written once, at the first start in demo mode (while no request exists), the same
//! way every time (a fixed seed; days counted back from the day it runs), and through the
//! lifecycle like any request: each is opened, approved stage by stage, waits for its change
//! window, is provisioned and deployed or fails, with its times in the past. Only what makes sense
//! live is left out (notices, the dispatch queue, reminders); every request it writes says so (its
//! origin is `demo` and its title starts with "Demo history").

use crate::catalog::store::ActiveCatalog;
use crate::db::users::{self, User};
use crate::db::{tickets, Db, Write};
use crate::domain::lifecycle::{Event, Verdict};
use crate::domain::request::RawDraft;
use crate::domain::schedule::{dispatch_gate, Gate};
use crate::domain::Catalog;
use crate::service::lifecycle::record_past;
use crate::service::requests::{submit_in, viewer, Origin};
use anyhow::Context;
use std::collections::BTreeMap;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// How far back the history goes.
const DAYS: i64 = 90;

/// One application's release habits.
struct Habit {
    application: &'static str,
    requester: &'static str,
    /// Who approves each stage of its production policy, in order.
    approvers: &'static [&'static [&'static str]],
    /// Days between releases, at least and at most.
    every: (i64, i64),
    /// How long each approver takes to answer, in minutes, at least and at most.
    answer: (i64, i64),
    /// The share of deployments that fail, and of successes rolled back, in percent.
    fails: u64,
    rolled_back: u64,
    /// The version's major number.
    major: u32,
}

const HABITS: [Habit; 2] = [
    Habit {
        application: "banking",
        requester: "ada",
        approvers: &[&["ben"], &["cleo", "dev"]],
        every: (2, 5),
        answer: (20, 8 * 60),
        fails: 15,
        rolled_back: 0,
        major: 3,
    },
    Habit {
        application: "storefront",
        requester: "wes",
        approvers: &[&["pia"]],
        every: (1, 2),
        answer: (5, 180),
        fails: 8,
        rolled_back: 6,
        major: 5,
    },
];

/// A small deterministic generator (SplitMix64): the same history every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi`.
    fn between(&mut self, (lo, hi): (i64, i64)) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1).max(1);
        lo + i64::try_from(self.next() % span).unwrap_or_default()
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

/// Writes the history when no request exists yet; the number of requests written.
pub async fn seed(db: &Db, active: &ActiveCatalog, now: i64) -> anyhow::Result<usize> {
    let any: Option<i64> = sqlx::query_scalar("select request_id from requests limit 1")
        .fetch_optional(&db.pool)
        .await?;
    if any.is_some() {
        return Ok(0);
    }
    let demo = Demo {
        db,
        active,
        people: people(db).await?,
        now,
    };
    let catalog = &active.catalog;
    // From the first whole day inside the last ninety, so that all of it is in Insights' period.
    let start = now - now.rem_euclid(DAY) - (DAYS - 1) * DAY;
    let mut written = 0;
    for (n, habit) in HABITS.iter().enumerate() {
        if catalog.application(habit.application).is_none() {
            continue;
        }
        let mut dice = Dice(0x5EED + n as u64);
        let mut day = start;
        let mut minor = 0;
        let mut last_good: Option<String> = None;
        let windows = catalog
            .application(habit.application)
            .and_then(|a| a.environment("production"))
            .is_some_and(|e| !e.policy.windows.is_empty());
        loop {
            // Behind a change window, releases are asked for early in the week, so that their
            // approvals do not lapse over a weekend.
            let weekday = (day / DAY + 3).rem_euclid(7);
            if windows && weekday >= 3 {
                day += (7 - weekday) * DAY;
            }
            // Opened in the morning or early afternoon (UTC).
            let opened = day + dice.between((7, 14)) * HOUR + dice.between((0, 59)) * MINUTE;
            minor += 1;
            let version = format!("{}.{minor}.0", habit.major);
            let Some(outcome) = release(&demo, habit, &mut dice, &version, opened).await? else {
                break;
            };
            match outcome {
                Outcome::LeftOut => {}
                Outcome::Failed(end) => {
                    written += 1;
                    // The fix follows within hours.
                    minor += 1;
                    let fix = format!("{}.{minor}.0", habit.major);
                    let at = end + dice.between((60, 240)) * MINUTE;
                    match release(&demo, habit, &mut dice, &fix, at).await? {
                        Some(Outcome::Succeeded(_)) => {
                            written += 1;
                            last_good = Some(fix);
                        }
                        Some(Outcome::Failed(_)) => written += 1,
                        _ => {}
                    }
                }
                Outcome::Succeeded(end) => {
                    written += 1;
                    if let Some(previous) = last_good.filter(|_| dice.percent(habit.rolled_back)) {
                        // A bad release: the one before it goes back out.
                        let at = end + dice.between((30, 180)) * MINUTE;
                        if let Some(Outcome::Succeeded(_) | Outcome::Failed(_)) =
                            release(&demo, habit, &mut dice, &previous, at).await?
                        {
                            written += 1;
                        }
                        last_good = Some(previous);
                    } else {
                        last_good = Some(version);
                    }
                }
            }
            day += dice.between(habit.every) * DAY;
            day -= day.rem_euclid(DAY);
        }
    }
    tracing::info!(requests = written, "demo history written");
    Ok(written)
}

/// What every release is written with: the demo users looked up once.
struct Demo<'a> {
    db: &'a Db,
    active: &'a ActiveCatalog,
    people: BTreeMap<&'static str, User>,
    now: i64,
}

/// The demo users the habits name.
async fn people(db: &Db) -> anyhow::Result<BTreeMap<&'static str, User>> {
    let mut people = BTreeMap::new();
    for habit in &HABITS {
        let names = habit.approvers.iter().flat_map(|stage| stage.iter());
        for name in names.chain([&habit.requester]) {
            let user = users::by_username(db, name)
                .await?
                .with_context(|| format!("the demo user {name} is missing"))?;
            people.insert(*name, user);
        }
    }
    Ok(people)
}

enum Outcome {
    Succeeded(i64),
    Failed(i64),
    LeftOut,
}

/// One release of `version` to production, opened at `opened`, in one transaction; `None` when
/// it would not have ended before `now` (nothing is written then).
async fn release(
    demo: &Demo<'_>,
    habit: &Habit,
    dice: &mut Dice,
    version: &str,
    opened: i64,
) -> anyhow::Result<Option<Outcome>> {
    let Demo {
        db,
        active,
        people,
        now,
    } = demo;
    let catalog = &active.catalog;
    let requester = &people[habit.requester];
    // The answers, the window, the steps: all decided before anything is written.
    let mut at = opened;
    let mut answers = Vec::new();
    for stage in habit.approvers {
        let mut last = at;
        for who in *stage {
            let answered = at + dice.between(habit.answer) * MINUTE;
            answers.push((*who, answered));
            last = last.max(answered);
        }
        at = last;
    }
    let Some(production) = catalog
        .application(habit.application)
        .and_then(|a| a.environment("production"))
    else {
        return Ok(None);
    };
    let waited = match dispatch_gate(
        catalog,
        &production.policy,
        habit.application,
        "production",
        at + MINUTE,
    ) {
        Gate::Open => None,
        Gate::WaitUntil { at_ms, reason } => Some((at_ms, reason)),
        Gate::Never { .. } => return Ok(None),
    };
    let started = waited.as_ref().map_or(at, |(until, _)| *until) + dice.between((1, 3)) * MINUTE;
    let provisioned = started + dice.between((2, 6)) * MINUTE;
    let ended = provisioned + dice.between((3, 12)) * MINUTE;
    if ended >= *now {
        return Ok(None);
    }
    let failed = dice.percent(habit.fails);
    let commit_at = dice
        .percent(70)
        .then(|| opened - dice.between((30, 36 * 60)) * MINUTE);

    let origin = Origin {
        kind: "demo",
        pipeline_url: "",
        self_deploy: false,
        on_behalf: None,
        commit_at,
        opened_at: Some(opened),
    };
    let mut events: Vec<(i64, Event)> = answers
        .into_iter()
        .map(|(who, answered)| {
            let by = viewer(&people[who], false);
            let verdict = Verdict::Approve;
            let comment = "Looks good.".to_owned();
            (
                answered,
                Event::Decided {
                    by,
                    verdict,
                    comment,
                },
            )
        })
        .collect();
    if let Some((_, note)) = waited {
        events.push((at + MINUTE, Event::WaitingForWindow { note }));
    }
    events.extend([
        (
            started,
            step_event("provision", Some("scripts/demo/provision.sh")),
        ),
        (provisioned, step_event("provision", None)),
        (
            provisioned + 5_000,
            step_event("deploy", Some("scripts/demo/deploy.sh")),
        ),
        (
            ended,
            if failed {
                Event::StepFailed {
                    step: "deploy".into(),
                    message: "The smoke test after the deploy failed (exit status 1).".into(),
                    target_id: String::new(),
                    ends: true,
                }
            } else {
                Event::Deployed
            },
        ),
    ]);
    // Approvers of one stage answer in any order: the timeline is written as it happened.
    events.sort_by_key(|(when, _)| *when);
    let mut tx = db.write().await?;
    let raw = draft(catalog, habit.application, version);
    let written = async {
        let (id, _) = submit_in(
            &mut tx,
            active,
            requester,
            habit.application,
            "production",
            &raw,
            &origin,
        )
        .await?;
        for (when, event) in &events {
            record_past(&mut tx, catalog, id, event, *when).await?;
        }
        Ok::<_, crate::service::error::Error>(())
    }
    .await;
    if let Err(e) = written {
        // The policy refused a step (approvals lapsed over a long wait): this release is left out.
        tracing::debug!(error = %e, version, "demo release left out");
        return Ok(Some(Outcome::LeftOut));
    }
    if !failed {
        resolve_incidents(&mut tx, habit.application, ended).await?;
    }
    tx.commit().await?;
    Ok(Some(if failed {
        Outcome::Failed(ended)
    } else {
        Outcome::Succeeded(ended)
    }))
}

/// A CI step of the made-up past (its one target): started with its job, or succeeded.
fn step_event(step: &str, job: Option<&str>) -> Event {
    let (step, target_id) = (step.into(), String::new());
    match job {
        Some(job) => Event::StepStarted {
            step,
            connector: "shell".into(),
            target: job.into(),
            target_id,
        },
        None => Event::StepSucceeded { step, target_id },
    }
}

/// The request's form, filled in as its requester would.
fn draft(catalog: &Catalog, application: &str, version: &str) -> RawDraft {
    let name = catalog
        .application(application)
        .map_or(application, |a| a.name.as_str());
    let fields: BTreeMap<String, String> = match application {
        "banking" => [
            ("change_ticket", format!("CHG-{}", version.replace('.', ""))),
            ("customer_impact", "none".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        _ => BTreeMap::new(),
    };
    RawDraft {
        version: version.into(),
        artifact: String::new(),
        title: format!("Demo history: {name} {version}"),
        summary:
            "Made up when the demo portal first started, so that Insights has a story to tell."
                .into(),
        risk: "low".into(),
        rollback_plan: "Deploy the previous version again.".into(),
        scheduled_local: String::new(),
        timezone: String::new(),
        fields,
        ..RawDraft::default()
    }
}

/// A success closes the tickets its application's failures opened.
async fn resolve_incidents(tx: &mut Write, application: &str, at: i64) -> anyhow::Result<()> {
    for ticket in tickets::open_on_application(tx, application).await? {
        tickets::set_state(tx, ticket, "open", "resolved", at).await?;
    }
    Ok(())
}
