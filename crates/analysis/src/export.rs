//! Exports, streamed in chunks of rows (the response never holds the whole file). Columns are
//! stable and documented in docs/analysis.md.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;

use crate::histogram::Bucket;
use crate::population::Population;
use crate::routes::ByteStream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// Rows per chunk written to the response.
const CHUNK: usize = 1000;

pub const ACCOUNT_COLUMNS: &[&str] = &[
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
];
pub const CREATION_COLUMNS: &[&str] = &["bucket_start", "count", "baseline", "excess", "burst"];
pub const TIMELINE_COLUMNS: &[&str] = &[
    "capture_id",
    "channel",
    "finished_at",
    "chatters",
    "new_in_session",
    "viewers",
    "live",
    "chatters_per_viewer",
];

fn ts(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Turns rows of cells (CSV) or JSON values into a byte stream: header or `[`, rows in chunks,
/// then `]`.
fn stream<I>(format: Format, columns: &'static [&'static str], rows: I) -> ByteStream
where
    I: Iterator<Item = (Vec<String>, serde_json::Value)> + Send + 'static,
{
    let opening = match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(columns);
            w.into_inner().unwrap_or_default()
        }
        Format::Json => b"[".to_vec(),
    };
    let mut first = true;
    let chunks = futures::stream::iter(itertools_chunks(rows)).map(move |chunk| {
        let mut out = Vec::with_capacity(chunk.len() * 160);
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut out);
                for (cells, _) in &chunk {
                    let _ = w.write_record(cells);
                }
                let _ = w.flush();
            }
            Format::Json => {
                for (_, value) in &chunk {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    let _ = serde_json::to_writer(&mut out, value);
                }
            }
        }
        Ok(Bytes::from(out))
    });
    let closing = match format {
        Format::Csv => Vec::new(),
        Format::Json => b"]".to_vec(),
    };
    futures::stream::once(async move { Ok(Bytes::from(opening)) })
        .chain(chunks)
        .chain(futures::stream::once(
            async move { Ok(Bytes::from(closing)) },
        ))
        .boxed()
}

/// Groups an iterator lazily into chunks of `CHUNK`.
fn itertools_chunks<T, I: Iterator<Item = T>>(mut rows: I) -> impl Iterator<Item = Vec<T>> {
    std::iter::from_fn(move || {
        let chunk: Vec<T> = rows.by_ref().take(CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

pub fn accounts(population: Arc<Population>, rows: Vec<usize>, format: Format) -> ByteStream {
    let iter = rows.into_iter().map(move |i| {
        let a = &population.accounts[i];
        let codes: Vec<&str> = a.score.reasons.iter().map(|r| r.code).collect();
        let cells = vec![
            a.row.twitch_user_id.clone(),
            a.row.login.clone(),
            a.row.display_name.clone(),
            ts(a.row.twitch_created_at),
            ts(Some(a.row.first_seen_at)),
            ts(Some(a.row.last_seen_at)),
            a.row.captures_seen.to_string(),
            a.row.captures_seen_offline.to_string(),
            a.row.channels_seen.to_string(),
            a.renames().to_string(),
            opt(a.row.default_avatar),
            opt(a.row.description_empty),
            a.row.missing.to_string(),
            a.score.score.to_string(),
            codes.join(";"),
        ];
        let value = json!({
            "twitch_user_id": a.row.twitch_user_id, "login": a.row.login, "display_name": a.row.display_name,
            "created_at": a.row.twitch_created_at, "first_seen_at": a.row.first_seen_at, "last_seen_at": a.row.last_seen_at,
            "captures_seen": a.row.captures_seen, "captures_seen_offline": a.row.captures_seen_offline,
            "channels_seen": a.row.channels_seen, "renames": a.renames(), "default_avatar": a.row.default_avatar,
            "empty_bio": a.row.description_empty, "missing": a.row.missing, "score": a.score.score,
            "reasons": a.score.reasons,
        });
        (cells, value)
    });
    stream(format, ACCOUNT_COLUMNS, iter)
}

pub fn creation(buckets: Vec<Bucket>, format: Format) -> ByteStream {
    let iter = buckets.into_iter().map(|b| {
        let cells = vec![b.start.to_string(), b.count.to_string(), b.baseline.to_string(), b.excess.to_string(), b.burst.to_string()];
        let value = json!({"bucket_start": b.start, "count": b.count, "baseline": b.baseline, "excess": b.excess, "burst": b.burst});
        (cells, value)
    });
    stream(format, CREATION_COLUMNS, iter)
}

pub type TimelineRow = (
    u64,
    String,
    Option<DateTime<Utc>>,
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Option<bool>,
    Option<f64>,
);

pub fn timeline(points: Vec<TimelineRow>, format: Format) -> ByteStream {
    let iter = points.into_iter().map(|(id, channel, at, chatters, fresh, viewers, live, ratio)| {
        let cells = vec![id.to_string(), channel.clone(), ts(at), opt(chatters), opt(fresh), opt(viewers), opt(live), opt(ratio)];
        let value = json!({"capture_id": id, "channel": channel, "finished_at": at, "chatters": chatters,
                           "new_in_session": fresh, "viewers": viewers, "live": live, "chatters_per_viewer": ratio});
        (cells, value)
    });
    stream(format, TIMELINE_COLUMNS, iter)
}
