//! Export encoders: rows become CSV (headers from the row types' field names, see
//! `tca_common::analysis_api::export`) or a JSON array, written in chunks so a response never
//! holds the whole file.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use sqlx::MySqlPool;
use tca_common::analysis_api::export::{
    CreationExportRow, ExportFormat, TimelineExportRow, spreadsheet_safe,
};
use tca_common::analysis_api::response::{Account, Bucket, CapturePoint, Cohort};

use crate::db::{self, AccountSelection, ExportedAccountRow};
use crate::population::Scored;
use crate::scoring::{ScoringConfig, SessionContext};

/// The body of a streamed response.
pub type ByteStream = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Rows per chunk written to the response.
const CHUNK: usize = 1000;

fn ts(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A row of an export: its CSV cells, in the order of its columns, and its JSON form.
trait ExportRow: Serialize {
    const COLUMNS: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

impl ExportRow for Account {
    const COLUMNS: &'static [&'static str] = Account::COLUMNS;
    fn cells(&self) -> Vec<String> {
        let codes: Vec<&str> = self.reasons.iter().map(|r| r.code.as_str()).collect();
        vec![
            self.twitch_user_id.clone(),
            self.login.clone(),
            self.display_name.clone(),
            ts(self.created_at),
            ts(Some(self.first_seen_at)),
            ts(Some(self.last_seen_at)),
            self.captures_seen.to_string(),
            self.captures_seen_offline.to_string(),
            self.channels_seen.to_string(),
            self.renames.to_string(),
            opt(self.default_avatar),
            opt(self.empty_bio),
            self.missing.to_string(),
            self.score.to_string(),
            codes.join(";"),
            opt(self.cohort_id),
            opt(self.cohort_strength),
            opt(self.label.as_deref()),
            opt(self.note.as_deref()),
            opt(self.marked_by.as_deref()),
            ts(self.marked_at),
            self.trusted.to_string(),
            self.reasons
                .iter()
                .map(|r| r.sentence.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
        ]
    }
}

impl ExportRow for Cohort {
    const COLUMNS: &'static [&'static str] = Cohort::COLUMNS;
    fn cells(&self) -> Vec<String> {
        vec![
            self.cohort_id.to_string(),
            self.kind.clone(),
            self.strength.to_string(),
            self.size.to_string(),
            self.total_size.to_string(),
            self.evidence.clone(),
            ts(Some(self.first_created)),
            ts(Some(self.last_created)),
        ]
    }
}

impl ExportRow for CreationExportRow {
    const COLUMNS: &'static [&'static str] = CreationExportRow::COLUMNS;
    fn cells(&self) -> Vec<String> {
        vec![
            self.bucket_start.to_string(),
            self.count.to_string(),
            self.baseline.to_string(),
            self.excess.to_string(),
            self.burst.to_string(),
        ]
    }
}

impl ExportRow for TimelineExportRow {
    const COLUMNS: &'static [&'static str] = TimelineExportRow::COLUMNS;
    fn cells(&self) -> Vec<String> {
        vec![
            self.capture_id.to_string(),
            self.channel.clone(),
            ts(self.finished_at),
            opt(self.chatters),
            opt(self.new_in_session),
            opt(self.viewers),
            opt(self.live),
            opt(self.chatters_per_viewer),
        ]
    }
}

fn opening<R: ExportRow>(format: ExportFormat) -> Bytes {
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(R::COLUMNS);
            Bytes::from(w.into_inner().unwrap_or_default())
        }
        ExportFormat::Json => Bytes::from_static(b"["),
    }
}

fn closing(format: ExportFormat) -> Bytes {
    match format {
        ExportFormat::Csv => Bytes::new(),
        ExportFormat::Json => Bytes::from_static(b"]"),
    }
}

/// One chunk of rows as bytes; `first` tracks the JSON array's commas across chunks.
fn encode<R: ExportRow>(format: ExportFormat, chunk: &[R], first: &mut bool) -> Bytes {
    let mut out = Vec::with_capacity(chunk.len() * 160);
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            for row in chunk {
                let mut cells = row.cells();
                // Only a risky cell is copied (with its leading `'`); the rest go as they are.
                for cell in &mut cells {
                    if let std::borrow::Cow::Owned(safe) = spreadsheet_safe(cell) {
                        *cell = safe;
                    }
                }
                let _ = w.write_record(&cells);
            }
            let _ = w.flush();
        }
        ExportFormat::Json => {
            for row in chunk {
                if !*first {
                    out.push(b',');
                }
                *first = false;
                let _ = serde_json::to_writer(&mut out, row);
            }
        }
    }
    Bytes::from(out)
}

/// Turns rows already in memory into a byte stream: header or `[`, rows in chunks, then `]`.
fn stream<R: ExportRow + Send + 'static>(format: ExportFormat, rows: Vec<R>) -> ByteStream {
    let mut first = true;
    let mut rows = rows.into_iter();
    let chunks = std::iter::from_fn(move || {
        let chunk: Vec<R> = rows.by_ref().take(CHUNK).collect();
        (!chunk.is_empty()).then_some(chunk)
    });
    let chunks =
        futures::stream::iter(chunks).map(move |chunk| Ok(encode(format, &chunk, &mut first)));
    futures::stream::once(async move { Ok(opening::<R>(format)) })
        .chain(chunks)
        .chain(futures::stream::once(async move { Ok(closing(format)) }))
        .boxed()
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
    config: Arc<ScoringConfig>,
    format: ExportFormat,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    // The reader runs as its own task: it writes the reasons in the request's language.
    let lang = tca_common::i18n::current();
    tokio::spawn(tca_common::i18n::scope(lang, async move {
        if tx.send(Ok(opening::<Account>(format))).await.is_err() {
            return;
        }
        let mut query = db::selected_accounts_query(&selection);
        let mut rows = query.build_query_as::<ExportedAccountRow>().fetch(&pool);
        let mut chunk: Vec<Account> = Vec::with_capacity(CHUNK);
        let mut first = true;
        loop {
            let done = match rows.next().await {
                Some(Ok(exported)) => {
                    let possible = exported.captures_possible.max(0) as u32;
                    chunk.push(Scored::new(exported.row, &context, possible, &config).to_account());
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
    }));
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

pub fn creation(buckets: Vec<Bucket>, format: ExportFormat) -> ByteStream {
    let rows = buckets
        .into_iter()
        .map(|b| CreationExportRow {
            bucket_start: b.start,
            count: b.count,
            baseline: b.baseline,
            excess: b.excess,
            burst: b.burst,
        })
        .collect();
    stream(format, rows)
}

pub fn cohorts(cohorts: Vec<Cohort>, format: ExportFormat) -> ByteStream {
    stream(format, cohorts)
}

pub fn timeline(points: Vec<CapturePoint>, format: ExportFormat) -> ByteStream {
    let rows = points
        .into_iter()
        .map(|p| TimelineExportRow {
            capture_id: p.id,
            channel: p.broadcaster_login,
            finished_at: p.finished_at,
            chatters: p.chatters_count,
            new_in_session: p.new_in_session_count,
            viewers: p.viewer_count,
            live: p.stream_live,
            chatters_per_viewer: p.chatters_per_viewer,
        })
        .collect();
    stream(format, rows)
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://evil\",\"x\")",
                "'=HYPERLINK(\"http://evil\",\"x\")",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("brook_fan48213", "brook_fan48213"),
            ("-3.5", "-3.5"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), safe, "{cell:?}");
        }
    }
}
