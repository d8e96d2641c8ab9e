//! The rows of the exports. Their field names are the CSV headers and the JSON keys, in the
//! order of `COLUMNS` (documented in docs/analysis.md; stable across versions).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::response::{Account, Cohort};

/// What an export is: which rows, which file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Accounts,
    Cohorts,
    Creation,
    Timeline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Cohorts => "cohorts",
            Self::Creation => "creation",
            Self::Timeline => "timeline",
        }
    }

    /// `accounts.csv` → (Accounts, Csv); the error says what exists.
    pub fn parse_file(file: &str) -> Result<(Self, ExportFormat), String> {
        let (what, format) = file.rsplit_once('.').ok_or_else(|| {
            "export names are accounts|cohorts|creation|timeline plus .csv or .json".to_string()
        })?;
        let format = match format {
            "csv" => ExportFormat::Csv,
            "json" => ExportFormat::Json,
            other => return Err(format!("export format must be csv or json, got '{other}'")),
        };
        let kind = match what {
            "accounts" => Self::Accounts,
            "cohorts" => Self::Cohorts,
            "creation" => Self::Creation,
            "timeline" => Self::Timeline,
            other => {
                return Err(format!(
                    "unknown export '{other}': accounts, cohorts, creation or timeline"
                ));
            }
        };
        Ok((kind, format))
    }
}

/// The rows of `accounts.csv|json` are `Account`s, the same shape as the account lists. In
/// CSV, `reasons` is the reasons' codes joined by `;` (stable in every language) and
/// `reasons_text` their sentences, in the requester's language, joined by ` | `.
impl Account {
    pub const COLUMNS: &'static [&'static str] = &[
        "twitch_user_id",
        "login",
        "display_name",
        "created_at",
        "first_seen_at",
        "last_seen_at",
        "captures_seen",
        "captures_seen_offline",
        "channels_seen",
        "renames",
        "default_avatar",
        "empty_bio",
        "missing",
        "score",
        "reasons",
        "cohort_id",
        "cohort_strength",
        "label",
        "note",
        "marked_by",
        "marked_at",
        "trusted",
        "reasons_text",
    ];
}

/// A row of `creation.csv|json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreationExportRow {
    pub bucket_start: NaiveDate,
    pub count: u64,
    pub baseline: f64,
    pub excess: f64,
    pub burst: bool,
}

impl CreationExportRow {
    pub const COLUMNS: &'static [&'static str] =
        &["bucket_start", "count", "baseline", "excess", "burst"];
}

/// The rows of `cohorts.csv|json` are `Cohort`s, the same shape as the cohort list.
impl Cohort {
    pub const COLUMNS: &'static [&'static str] = &[
        "cohort_id",
        "kind",
        "strength",
        "size",
        "total_size",
        "evidence",
        "first_created",
        "last_created",
    ];
}

/// A row of `timeline.csv|json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineExportRow {
    pub capture_id: u64,
    pub channel: String,
    pub finished_at: Option<DateTime<Utc>>,
    pub chatters: Option<u32>,
    pub new_in_session: Option<u32>,
    pub viewers: Option<u32>,
    pub live: Option<bool>,
    pub chatters_per_viewer: Option<f64>,
}

impl TimelineExportRow {
    pub const COLUMNS: &'static [&'static str] = &[
        "capture_id",
        "channel",
        "finished_at",
        "chatters",
        "new_in_session",
        "viewers",
        "live",
        "chatters_per_viewer",
    ];
}

/// A CSV cell a spreadsheet will not run as a formula (OWASP, "CSV injection"): a cell that
/// begins with `=`, `+`, `-`, `@`, a tab or a carriage return — a display name such as
/// `=HYPERLINK(…)` — gets a leading `'`. Numbers (`-3.5`, an excess below the baseline) are
/// left as they are: a spreadsheet reads them as numbers, never as formulas. JSON is unchanged.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CSV headers are the serialized field names: a field added, renamed or removed
    /// without its column fails here.
    fn same_names<T: Serialize>(row: &T, columns: &[&str]) {
        let value = serde_json::to_value(row).expect("serializable");
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        // CSV flattens the reasons into two columns; JSON keeps them as objects (code, points,
        // sentence) under `reasons`.
        let mut expected: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| *c != "reasons_text")
            .collect();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn csv_headers_are_the_rows_field_names() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        same_names(
            &Account {
                twitch_user_id: "1".into(),
                login: "a".into(),
                display_name: "A".into(),
                created_at: None,
                first_seen_at: at,
                last_seen_at: at,
                captures_seen: 1,
                captures_seen_offline: 0,
                channels_seen: 1,
                renames: 0,
                default_avatar: None,
                empty_bio: None,
                missing: false,
                score: 0,
                reasons: Vec::new(),
                cohort_id: None,
                cohort_strength: None,
                label: None,
                note: None,
                marked_by: None,
                marked_at: None,
                trusted: false,
            },
            Account::COLUMNS,
        );
        same_names(
            &Cohort {
                cohort_id: 1,
                kind: "bot".into(),
                strength: 60,
                size: 8,
                total_size: 8,
                evidence: "8 accounts".into(),
                first_created: at,
                last_created: at,
            },
            Cohort::COLUMNS,
        );
        same_names(
            &CreationExportRow {
                bucket_start: at.date_naive(),
                count: 1,
                baseline: 0.0,
                excess: 0.0,
                burst: false,
            },
            CreationExportRow::COLUMNS,
        );
        same_names(
            &TimelineExportRow {
                capture_id: 1,
                channel: "c".into(),
                finished_at: None,
                chatters: None,
                new_in_session: None,
                viewers: None,
                live: None,
                chatters_per_viewer: None,
            },
            TimelineExportRow::COLUMNS,
        );
    }

    #[test]
    fn export_file_names_are_checked() {
        assert_eq!(
            ExportKind::parse_file("timeline.json"),
            Ok((ExportKind::Timeline, ExportFormat::Json))
        );
        assert_eq!(
            ExportKind::parse_file("cohorts.csv"),
            Ok((ExportKind::Cohorts, ExportFormat::Csv))
        );
        assert!(ExportKind::parse_file("accounts").is_err());
        assert!(ExportKind::parse_file("accounts.xls").is_err());
        assert!(ExportKind::parse_file("secrets.csv").is_err());
    }
}
