use serde::{Deserialize, Serialize};

/// The change calendar of a week or a month, in the viewer's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarView {
    /// "December 2026", "Week 51, 2026 (14 Dec – 20 Dec)".
    pub title: String,
    /// `month` or `week`.
    pub mode: String,
    /// The address queries of this period, the one before and the one after, and of the other
    /// view of the same time (the month of the week, the first week of the month).
    pub this: String,
    pub previous: String,
    pub next: String,
    pub other: String,
    pub time_zone: String,
    pub days: Vec<CalendarDay>,
    /// (id, name) choices of the filters, and what is chosen.
    pub teams: Vec<(String, String)>,
    pub applications: Vec<(String, String)>,
    pub team: String,
    pub application: String,
    /// When the viewer's private feed address was made, if they have one.
    #[serde(default)]
    pub feed_since: Option<String>,
    /// The address just made, shown once.
    #[serde(default)]
    pub feed_url: Option<String>,
    #[serde(default)]
    pub notice: Option<super::Notice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDay {
    /// `2026-12-14`.
    pub date: String,
    /// "Mon 14".
    pub label: String,
    pub today: bool,
    /// "Business hours 09:00–17:00".
    pub windows: Vec<String>,
    /// "Year-end closing (all day)", "Month-end closing 18:00–24:00".
    pub freezes: Vec<String>,
    pub entries: Vec<CalendarEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub request_id: i64,
    /// "14:30".
    pub time: String,
    /// "Banking 2.4.1 → Production".
    pub text: String,
    /// `awaiting approval`, `scheduled`, `deploying`, `succeeded` or `failed`.
    pub status: String,
    /// `emergency`, `rollback`, `standard`, or empty.
    pub change: String,
}
