//! What the API tokens page and the gate page show.

use crate::db::gate_checks::GateCheck;
use crate::db::tokens::TokenRow;
use crate::domain::{format_ms, Catalog};
use crate::service::gate::{GateAnswer, GateInput};
use crate::service::tokens::SCOPES;
use app::model::{GateLine, GatePageView, TokenLine, TokensView};

fn target(catalog: &Catalog, app: &str, env: &str) -> String {
    let application = catalog.application(app);
    format!(
        "{} → {}",
        application.map_or(app, |a| a.name.as_str()),
        application
            .and_then(|a| a.environment(env))
            .map_or(env, |e| e.name.as_str())
    )
}

pub fn tokens(catalog: &Catalog, rows: Vec<TokenRow>) -> TokensView {
    TokensView {
        tokens: rows
            .into_iter()
            .map(|t| TokenLine {
                id: t.id,
                name: t.name,
                prefix: format!("{}…", t.prefix),
                scopes: t.scopes,
                applications: if t.applications.iter().any(|a| a == "*") {
                    "every application".to_owned()
                } else {
                    t.applications
                        .iter()
                        .map(|a| {
                            catalog
                                .application(a)
                                .map_or(a.as_str(), |a| a.name.as_str())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                acts_as: t.user_name,
                created_by: t.created_by,
                created_at: format_ms(t.created_at),
                last_used: t.last_used_at.map(format_ms),
                revoked: t.revoked_at.map(format_ms),
            })
            .collect(),
        applications: catalog
            .applications
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        posted: Default::default(),
        created: None,
    }
}

pub fn gate_page(catalog: &Catalog, checks: Vec<GateCheck>) -> GatePageView {
    GatePageView {
        applications: catalog
            .applications
            .iter()
            .map(|a| app::model::GateTarget {
                id: a.id.clone(),
                name: a.name.clone(),
                environments: a
                    .environments
                    .iter()
                    .map(|e| (e.id.clone(), e.name.clone()))
                    .collect(),
            })
            .collect(),
        recent: checks
            .into_iter()
            .map(|g| GateLine {
                asked_at: format_ms(g.created_at),
                asked_by: g.asked_by,
                target: target(catalog, &g.application_id, &g.environment_id),
                version: g.version,
                actor: g.actor,
                about: format_ms(g.at),
                dry_run: g.dry_run,
                decision: g.decision,
                rule: g.rule,
                reasons: serde_json::from_str(&g.reasons).unwrap_or_default(),
                request_id: g.request_id,
            })
            .collect(),
        posted: Default::default(),
        answer: None,
    }
}

pub fn answered(
    catalog: &Catalog,
    input: &GateInput,
    asked_by: &str,
    answer: &GateAnswer,
) -> GateLine {
    let mut reasons = answer.answer.reasons.clone();
    if let Some(next) = answer.answer.next_window_ms {
        if answer.answer.rule == "window" {
            reasons.push(format!("Next allowed time: {}", format_ms(next)));
        }
    }
    GateLine {
        asked_at: format_ms(crate::db::now_ms()),
        asked_by: asked_by.to_owned(),
        target: target(catalog, input.application.trim(), input.environment.trim()),
        version: input.version.trim().to_owned(),
        actor: input.actor.clone().unwrap_or_default(),
        about: answer
            .at
            .parse::<jiff::Timestamp>()
            .map_or_else(|_| answer.at.clone(), |t| format_ms(t.as_millisecond())),
        dry_run: answer.dry_run,
        decision: answer.answer.decision.as_str().to_owned(),
        rule: answer.answer.rule.to_owned(),
        reasons,
        request_id: answer.answer.request_id,
    }
}

/// How far back the history page looks.
pub const HISTORY_DAYS: i64 = 90;

fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// An application's stage results since `since`, one chart per stage.
pub fn history(
    app: &crate::domain::Application,
    results: Vec<(String, crate::db::stage_results::StageResult)>,
    since: i64,
    now: i64,
) -> app::model::HistoryView {
    use crate::ui::timeline::duration_words;
    use app::model::{ChartPoint, StageResultLine, StageSeries};
    let env_name = |id: &str| {
        app.environment(id)
            .map_or_else(|| id.to_owned(), |e| e.name.clone())
    };
    let duration = |r: &crate::db::stage_results::StageResult| {
        r.started_at
            .zip(r.finished_at)
            .map(|(s, f)| f - s)
            .filter(|d| *d >= 0)
    };
    let mut names: Vec<String> = results.iter().map(|(_, r)| r.stage.clone()).collect();
    names.sort();
    names.dedup();
    let span = (now - since).max(1) as f32;
    let stages = names
        .into_iter()
        .map(|name| {
            let of: Vec<&(String, crate::db::stage_results::StageResult)> =
                results.iter().filter(|(_, r)| r.stage == name).collect();
            let durations: Vec<i64> = of.iter().filter_map(|(_, r)| duration(r)).collect();
            let longest = durations.iter().copied().max().unwrap_or(0);
            StageSeries {
                runs: of.len(),
                failures: of.iter().filter(|(_, r)| r.status == "failed").count(),
                median: median(durations.clone()).map_or_else(|| "—".to_owned(), duration_words),
                longest: if longest > 0 {
                    duration_words(longest)
                } else {
                    "—".to_owned()
                },
                points: of
                    .iter()
                    .map(|(env, r)| {
                        let at = r.finished_at.unwrap_or(r.created_at);
                        let d = duration(r);
                        ChartPoint {
                            x: ((at - since) as f32 / span).clamp(0.0, 1.0),
                            y: d.map_or(0.0, |d| {
                                if longest > 0 {
                                    d as f32 / longest as f32
                                } else {
                                    0.0
                                }
                            }),
                            ok: r.status == "succeeded",
                            label: format!(
                                "#{} {} {} {}{}",
                                r.request_id,
                                env_name(env),
                                r.status,
                                format_ms(at),
                                d.map(|d| format!(", {}", duration_words(d)))
                                    .unwrap_or_default()
                            ),
                            request_id: r.request_id,
                        }
                    })
                    .collect(),
                name,
            }
        })
        .collect();
    let latest = results
        .iter()
        .rev()
        .take(50)
        .map(|(env, r)| StageResultLine {
            at: format_ms(r.finished_at.unwrap_or(r.created_at)),
            env_name: env_name(env),
            stage: r.stage.clone(),
            status: r.status.clone(),
            duration: duration(r).map_or_else(|| "—".to_owned(), duration_words),
            metrics: serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.metrics)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            request_id: r.request_id,
        })
        .collect();
    app::model::HistoryView {
        app_id: app.id.clone(),
        app_name: app.name.clone(),
        period: format!(
            "{} → {}",
            format_ms(since).get(..10).unwrap_or_default(),
            format_ms(now).get(..10).unwrap_or_default()
        ),
        stages,
        latest,
    }
}
