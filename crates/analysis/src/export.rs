//! Exports, streamed in chunks of rows (the response never holds the whole file). Columns are
//! stable and documented in docs/analysis.md.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;

use sqlx::MySqlPool;

use crate::histogram::Bucket;
use crate::population::{ACCOUNT_SELECT, AccountRow, Scored};
use crate::routes::ByteStream;
use crate::scoring::{ScoringConfig, SessionContext};

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

/// What one exported row is, in both formats: CSV cells and a JSON value.
type Record = (Vec<String>, serde_json::Value);

fn opening(format: Format, columns: &[&str]) -> Bytes {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(columns);
            Bytes::from(w.into_inner().unwrap_or_default())
        }
        Format::Json => Bytes::from_static(b"["),
    }
}

fn closing(format: Format) -> Bytes {
    match format {
        Format::Csv => Bytes::new(),
        Format::Json => Bytes::from_static(b"]"),
    }
}

/// One chunk of rows as bytes; `first` tracks the JSON array's commas across chunks.
fn encode(format: Format, chunk: &[Record], first: &mut bool) -> Bytes {
    let mut out = Vec::with_capacity(chunk.len() * 160);
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            for (cells, _) in chunk {
                let _ = w.write_record(cells);
            }
            let _ = w.flush();
        }
        Format::Json => {
            for (_, value) in chunk {
                if !*first {
                    out.push(b',');
                }
                *first = false;
                let _ = serde_json::to_writer(&mut out, value);
            }
        }
    }
    Bytes::from(out)
}

/// Turns rows already in memory into a byte stream: header or `[`, rows in chunks, then `]`.
fn stream<I>(format: Format, columns: &'static [&'static str], rows: I) -> ByteStream
where
    I: Iterator<Item = Record> + Send + 'static,
{
    let mut first = true;
    let chunks = futures::stream::iter(itertools_chunks(rows))
        .map(move |chunk| Ok(encode(format, &chunk, &mut first)));
    futures::stream::once(async move { Ok(opening(format, columns)) })
        .chain(chunks)
        .chain(futures::stream::once(async move { Ok(closing(format)) }))
        .boxed()
}

/// Groups an iterator lazily into chunks of `CHUNK`.
fn itertools_chunks<T, I: Iterator<Item = T>>(mut rows: I) -> impl Iterator<Item = Vec<T>> {
    std::iter::from_fn(move || {
        let chunk: Vec<T> = rows.by_ref().take(CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

fn account_record(a: &Scored) -> Record {
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
}

/// Which of a session's accounts an export holds, as SQL conditions.
#[derive(Debug, Clone, Default)]
pub struct AccountSelection {
    pub session_id: u64,
    /// Accounts seen in any of these channels (Twitch broadcaster ids); empty: all.
    pub broadcasters: Vec<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// Chunks in flight between the database reader and the response: this, times `CHUNK` rows,
/// is all an export ever holds, whatever its size.
const CHUNKS_IN_FLIGHT: usize = 2;

/// The accounts export, read from the database row by row and scored with the session's
/// context as it goes — memory stays flat however many accounts the session has. A reader
/// task fills a small bounded channel; a slow client slows the reader, a gone client stops it.
pub fn accounts(
    pool: MySqlPool,
    selection: AccountSelection,
    context: Arc<SessionContext>,
    captures_done: u32,
    config: Arc<ScoringConfig>,
    format: Format,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(ACCOUNT_SELECT);
        q.push(" WHERE sa.session_id = ")
            .push_bind(selection.session_id);
        if !selection.broadcasters.is_empty() {
            q.push(
                " AND sa.account_id IN (SELECT sca.account_id FROM session_channel_accounts sca \
                 JOIN session_channels sc ON sc.id = sca.session_channel_id WHERE sc.session_id = ",
            )
            .push_bind(selection.session_id)
            .push(" AND sc.broadcaster_id IN (");
            let mut list = q.separated(", ");
            for b in &selection.broadcasters {
                list.push_bind(b.clone());
            }
            q.push("))");
        }
        if let Some(from) = selection.created_from {
            q.push(" AND a.twitch_created_at >= ").push_bind(from);
        }
        if let Some(to) = selection.created_to {
            q.push(" AND a.twitch_created_at < ").push_bind(to);
        }
        q.push(" ORDER BY sa.session_id, sa.account_id");
        if tx.send(Ok(opening(format, ACCOUNT_COLUMNS))).await.is_err() {
            return;
        }
        let mut rows = q.build_query_as::<AccountRow>().fetch(&pool);
        let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK);
        let mut first = true;
        loop {
            let next = rows.next().await;
            let done = match next {
                Some(Ok(row)) => {
                    chunk.push(account_record(&Scored::new(
                        row,
                        &context,
                        captures_done,
                        &config,
                    )));
                    false
                }
                Some(Err(e)) => {
                    // The response is already under way: cut it short so the client sees a
                    // broken download, never a silently truncated file.
                    tracing::error!(error = %e, "accounts export failed while reading");
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
                None => true,
            };
            if (chunk.len() == CHUNK || done) && !chunk.is_empty() {
                let bytes = encode(format, &chunk, &mut first);
                chunk.clear();
                if tx.send(Ok(bytes)).await.is_err() {
                    return;
                }
            }
            if done {
                break;
            }
        }
        let _ = tx.send(Ok(closing(format))).await;
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
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
