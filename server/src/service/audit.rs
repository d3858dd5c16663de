//! Verifying the audit trail: every request's chain walked against its head.

use crate::db::{admin_events, audit_trail, Db, DbKind};
use crate::domain::audit_chain::{check, Finding, Stored};
use std::collections::HashMap;

/// What a walk of the whole trail found.
#[derive(Debug, Default)]
pub struct Verification {
    pub requests: usize,
    pub events: usize,
    /// The first thing wrong with each request's trail that has one, by request id.
    pub findings: Vec<(i64, Finding)>,
    /// Events of the administration trail (what was done to accounts).
    pub admin_events: usize,
    /// The first thing wrong with the administration trail.
    pub admin_finding: Option<Finding>,
}

impl Verification {
    /// Every finding in words, the administration trail's first.
    pub fn described(&self) -> Vec<String> {
        let admin = self
            .admin_finding
            .iter()
            .map(|f| f.describe_in("the administration trail"));
        let requests = self.findings.iter().map(|(id, f)| f.describe(*id));
        admin.chain(requests).collect()
    }
}

/// Requests read at once.
const PAGE: i64 = 500;

/// Walks the administration trail, then every request's trail, a page of requests at a time.
pub async fn verify(db: &Db) -> Result<Verification, sqlx::Error> {
    let mut out = Verification::default();
    let mut after = 0;
    // One snapshot for the whole walk: an event committed meanwhile is not half seen (its head
    // without it, or it without its head).
    let mut tx = db.pool.begin().await?;
    if db.kind == DbKind::Postgres {
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
    }
    let (admin, admin_head) = admin_events::chain(&mut tx).await?;
    out.admin_events = admin.len();
    out.admin_finding = check(&admin, &admin_head);
    loop {
        let heads = audit_trail::heads(&mut *tx, after, PAGE).await?;
        let (Some(first), Some(last)) = (heads.first(), heads.last()) else {
            return Ok(out);
        };
        let mut trails: HashMap<i64, Vec<Stored>> = HashMap::new();
        for e in audit_trail::events(&mut *tx, first.0, last.0).await? {
            trails.entry(e.request_id).or_default().push(e);
        }
        for (id, head) in &heads {
            let trail = trails.remove(id).unwrap_or_default();
            out.requests += 1;
            out.events += trail.len();
            if let Some(finding) = check(&trail, head.as_deref().unwrap_or_default()) {
                out.findings.push((*id, finding));
            }
        }
        after = last.0;
    }
}
