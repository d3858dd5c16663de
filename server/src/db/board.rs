//! The board: every request a person may read, filtered and searched, a page at a time.

use super::queue::{listed, Listed, LISTED};
use super::{Db, DbKind};

/// Which requests a listing may show.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Operations and administrators: all of them.
    All,
    /// Those of the applications `apps`, and whatever `requester` asked for.
    Readable { apps: &'a [String], requester: i64 },
}

/// A page of the board. Empty filters match all.
#[derive(Debug, Clone, Copy)]
pub struct BoardQuery<'a> {
    pub scope: Scope<'a>,
    pub state: &'a str,
    pub app: &'a str,
    pub env: &'a str,
    pub search: &'a str,
    /// Only what this person asked for.
    pub requester: Option<i64>,
    /// Older than this id (keyset pagination); 0 for the newest.
    pub before: i64,
    pub limit: i64,
}

/// `text` with LIKE's wildcards and its escape character taken literally (escape `\\`).
pub(super) fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Requests newest first. Only the filters given become conditions, so each query can use the
/// index that fits it.
pub async fn board(db: &Db, b: &BoardQuery<'_>) -> Result<Vec<Listed>, sqlx::Error> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut param = |value: &str| {
        binds.push(value.to_owned());
        format!("${}", binds.len())
    };
    let search = b.search;
    // On PostgreSQL a search reads the narrow `request_search` copy (alias `s`) and cuts the page
    // there; everything else reads the requests themselves.
    let narrow = db.kind == DbKind::Postgres && !search.is_empty();
    let t = if narrow { "s" } else { "r" };
    for (column, value) in [
        ("state", b.state),
        ("application_id", b.app),
        ("environment_id", b.env),
    ] {
        if !value.is_empty() {
            conditions.push(format!("{t}.{column} = {}", param(value)));
        }
    }
    // Parameters travel as text: the ids are cast back.
    let mut asked_by = |requester: i64| {
        let p = param(&requester.to_string());
        if narrow {
            format!(
                "s.request_id in (select request_id from requests where requester_id = cast({p} as bigint))"
            )
        } else {
            format!("r.requester_id = cast({p} as bigint)")
        }
    };
    if let Some(requester) = b.requester {
        conditions.push(asked_by(requester));
    }
    if let Scope::Readable { apps, requester } = b.scope {
        let own = asked_by(requester);
        let apps: Vec<String> = apps.iter().map(|a| param(a)).collect();
        conditions.push(if apps.is_empty() {
            own
        } else {
            format!("({t}.application_id in ({}) or {own})", apps.join(", "))
        });
    }
    let plain = !search.contains(['%', '_', '\\']);
    if db.kind == DbKind::Sqlite && plain && search.chars().count() >= 3 {
        // The trigram index answers a substring of three characters or more, case-insensitively.
        let p = param(&format!("%{search}%"));
        conditions.push(format!(
            "r.request_id in (select rowid from request_search where title like {p} \
             union select rowid from request_search where version like {p})"
        ));
    } else if !search.is_empty() {
        let p = param(&format!("%{}%", like_escaped(&search.to_lowercase())));
        conditions.push(if narrow {
            format!("s.text like {p} escape '\\'")
        } else {
            format!(
                "(lower(r.title) like {p} escape '\\' or lower(r.version) like {p} escape '\\')"
            )
        });
    }
    let n = binds.len();
    let before = b.before;
    if before > 0 {
        conditions.push(format!("{t}.request_id < ${}", n + 1));
    }
    let limit_param = n + 1 + usize::from(before > 0);
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("where {}", conditions.join(" and "))
    };
    let sql = if narrow {
        format!(
            "select {LISTED} from \
             (select s.request_id from request_search s {filter} \
              order by s.request_id desc limit ${limit_param}) m \
             join requests r on r.request_id = m.request_id \
             join users u on u.user_id = r.requester_id \
             order by r.request_id desc"
        )
    } else {
        format!(
            "select {LISTED} from requests r \
             join users u on u.user_id = r.requester_id {filter} \
             order by r.request_id desc limit ${limit_param}"
        )
    };
    let mut query = sqlx::query(&sql);
    for value in &binds {
        query = query.bind(value.as_str());
    }
    if before > 0 {
        query = query.bind(before);
    }
    query
        .bind(b.limit)
        .persistent(db.keep_listing_prepared())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(listed)
        .collect()
}
