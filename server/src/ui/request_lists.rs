//! The lists of requests: the approver queue, the viewer's own, and the board.

use super::request_page::*;
use super::views::format_ms;
use crate::db::board::{BoardQuery, Scope};
use crate::db::queue::Listed;
use crate::db::users::User;
use crate::db::{now_ms, Db};
use crate::domain::approval::{self};
use crate::domain::lifecycle::Subject;
use crate::domain::request::State;
use crate::domain::Catalog;
use crate::service::delegation::Place;
use crate::service::error::Error;
use crate::service::lifecycle::approvals;
use app::model::*;
use std::collections::BTreeMap;

/// The requests `user` can decide on now: in their own name, or in the place of an away
/// approver who named them their delegate (said before what the request waits for).
pub async fn queue(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    app: &str,
    env: &str,
    oldest_first: bool,
    zone: &str,
) -> Result<QueueView, Error> {
    let now = now_ms();
    let seats = crate::service::delegation::seats(db, user, now).await?;
    let mut teams = user.teams.clone();
    teams.extend(seats.iter().flat_map(|s| s.viewer.teams.iter().cloned()));
    teams.sort();
    teams.dedup();
    let (pending, decisions) = crate::db::queue::pending(db, app, env, &teams).await?;
    let mut applications = BTreeMap::new();
    let mut environments = BTreeMap::new();
    let mut requests = Vec::new();
    for (row, policy) in pending {
        let theirs = decisions
            .get(&row.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let policy = &policy;
        let given = approvals(theirs);
        let eval = approval::evaluate(policy, row.requester_id, &given, now);
        let subject = Subject {
            state: Some(row.state),
            requester_id: row.requester_id,
            scheduled_at: row.scheduled_at,
            self_deploy: false,
            approvals: given.clone(),
            retryable: false,
        };
        let by = crate::service::requests::viewer(user, false);
        let seat = match crate::service::delegation::place(&subject, policy, now, &by, &seats) {
            Place::Neither => continue,
            Place::Own => None,
            Place::For(seat) => Some(seat),
        };
        let place = seat
            .map(|s| format!("for {} · ", s.name))
            .unwrap_or_default();
        let (app_name, env_name) = target_names(catalog, &row.application_id, &row.environment_id);
        applications.insert(row.application_id.clone(), app_name);
        environments.insert(row.environment_id.clone(), env_name);
        let waiting_for = eval
            .current
            .and_then(|c| eval.stages.get(c))
            .map(|s| {
                let missing: Vec<String> = s
                    .rules
                    .iter()
                    .filter(|r| !r.satisfied())
                    .map(|r| {
                        format!(
                            "{} more of {}",
                            r.needed as usize - r.counted.len(),
                            catalog.team_name(&r.team)
                        )
                    })
                    .collect();
                format!("{place}{}: {}", s.name, missing.join(", "))
            })
            .unwrap_or_default();
        requests.push(line(catalog, row, waiting_for, zone));
    }
    if oldest_first {
        requests.reverse();
    }
    Ok(QueueView {
        requests,
        applications: applications.into_iter().collect(),
        environments: environments.into_iter().collect(),
    })
}

/// (application name, environment name) of a request, or their ids if the catalog dropped them.
pub(super) fn target_names(catalog: &Catalog, app_id: &str, env_id: &str) -> (String, String) {
    let app = catalog.application(app_id);
    (
        app.map_or_else(|| app_id.to_owned(), |a| a.name.clone()),
        app.and_then(|a| a.environment(env_id))
            .map_or_else(|| env_id.to_owned(), |e| e.name.clone()),
    )
}

pub(super) fn line(catalog: &Catalog, row: Listed, waiting_for: String, zone: &str) -> RequestLine {
    let (app_name, env_name) = target_names(catalog, &row.application_id, &row.environment_id);
    RequestLine {
        id: row.id,
        title: row.title,
        app_name,
        env_name,
        version: row.version,
        state: state_words(row.state),
        requester: row.requester_name,
        updated_at: format_local(row.updated_at, zone),
        updated_utc: format_ms(row.updated_at),
        waiting_for,
        change: if row.change_kind == "normal" {
            String::new()
        } else {
            row.change_kind
        },
    }
}

const BOARD_PAGE: i64 = 50;

/// The viewer's own requests for the home page: open ones first, then the latest finished.
pub async fn mine(db: &Db, catalog: &Catalog, viewer: &Viewer) -> Result<Vec<RequestLine>, Error> {
    let rows = crate::db::queue::mine(db, viewer.id, 10).await?;
    Ok(rows
        .into_iter()
        .map(|row| line(catalog, row, String::new(), &viewer.time_zone))
        .collect())
}

/// The requests `viewer` may read (every one for operations and administrators): filtered,
/// newest first, a page at a time.
pub async fn board(
    db: &Db,
    catalog: &Catalog,
    viewer: &Viewer,
    filter: &BoardFilter,
) -> Result<BoardView, Error> {
    let everything = viewer.roles.ops || viewer.roles.admin;
    let readable = super::viewer::readable(catalog, viewer);
    let scope = if everything {
        Scope::All
    } else {
        Scope::Readable {
            apps: &readable,
            requester: viewer.id,
        }
    };
    let state = match filter.state.trim() {
        "" => "",
        s => State::parse(s)
            .map(State::as_str)
            .ok_or_else(|| Error::NotFound(format!("There is no request state {s}.")))?,
    };
    let plain = crate::domain::text::searchable;
    let (search, app, env) = (plain(&filter.q), plain(&filter.app), plain(&filter.env));
    let query = BoardQuery {
        scope,
        state,
        app: &app,
        env: &env,
        search: search.trim(),
        requester: filter.mine.then_some(viewer.id),
        before: filter.before.max(0),
        limit: BOARD_PAGE + 1,
    };
    let mut rows = crate::db::board::board(db, &query).await?;
    let next_before = (rows.len() as i64 > BOARD_PAGE).then(|| {
        rows.truncate(BOARD_PAGE as usize);
        rows.last().map(|r| r.id).unwrap_or_default()
    });
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let notes = crate::db::dispatch::notes(db, &ids).await?;
    let requests = rows
        .into_iter()
        .map(|row| {
            let waiting_for = match (notes.get(&row.id), row.scheduled_at) {
                (Some(note), _) if row.state.is_open() => note.clone(),
                (_, Some(at)) if row.state == State::Scheduled => {
                    format!("scheduled for {}", format_ms(at))
                }
                _ => String::new(),
            };
            line(catalog, row, waiting_for, &viewer.time_zone)
        })
        .collect();
    let (applications, environments) = super::viewer::filter_choices(catalog, &readable);
    Ok(BoardView {
        // Counts over every application: for those who read them all.
        in_flight: if everything {
            crate::db::dispatch::in_flight(db).await?
        } else {
            Vec::new()
        },
        everything,
        requests,
        next_before,
        states: State::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        applications,
        environments,
    })
}
