//! Guards on Twitch's cursor paging. Twitch's cursors are opaque and its lists live: we stop
//! with a clear error on a cursor seen before (a loop) or on more pages than the list can have,
//! and count a full page that came without a cursor (a known regression of Get Moderated
//! Channels that silently drops the rest of the list).

use std::collections::HashSet;

use super::TwitchError;

/// One paging pass over a Twitch list.
pub struct Pager {
    endpoint: &'static str,
    page_size: usize,
    max_pages: u32,
    pages: u32,
    cursors: HashSet<String>,
}

impl Pager {
    pub fn new(endpoint: &'static str, page_size: usize, max_pages: u32) -> Self {
        Self {
            endpoint,
            page_size,
            max_pages,
            pages: 0,
            cursors: HashSet::new(),
        }
    }

    /// Pages of Get Chatters a channel of `total` chatters can take: one per 1,000, and five
    /// more for the chatters who arrive during the pass.
    pub fn chatters_pages(total: u64) -> u32 {
        (total.div_ceil(1000) + 5).min(u64::from(u32::MAX)) as u32
    }

    /// After a page of `len` items came with `cursor`: the cursor to ask for next, `None` at
    /// the end, or an error when the paging is broken.
    pub fn next(
        &mut self,
        len: usize,
        cursor: Option<String>,
    ) -> Result<Option<String>, TwitchError> {
        self.pages += 1;
        let Some(cursor) = cursor else {
            if len >= self.page_size {
                tracing::warn!(
                    endpoint = self.endpoint,
                    pages = self.pages,
                    "Twitch sent a full page without a cursor: the list may be cut short"
                );
                metrics::counter!("twitch_paging_full_page_without_cursor_total", "endpoint" => self.endpoint)
                    .increment(1);
            }
            return Ok(None);
        };
        if !self.cursors.insert(cursor.clone()) {
            metrics::counter!("twitch_paging_broken_total", "endpoint" => self.endpoint, "why" => "repeated_cursor")
                .increment(1);
            return Err(TwitchError::PagingBroken(format!(
                "Twitch sent the same {} cursor twice (after {} pages): stopped instead of looping",
                self.endpoint, self.pages
            )));
        }
        if self.pages >= self.max_pages {
            metrics::counter!("twitch_paging_broken_total", "endpoint" => self.endpoint, "why" => "too_many_pages")
                .increment(1);
            return Err(TwitchError::PagingBroken(format!(
                "Twitch's {} list went past {} pages, more than it can hold: stopped",
                self.endpoint, self.max_pages
            )));
        }
        Ok(Some(cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_cursor_or_too_many_pages_stop_the_pass() {
        let mut pager = Pager::new("chatters", 1000, 10);
        assert_eq!(
            pager.next(1000, Some("a".into())).expect("ok"),
            Some("a".into())
        );
        assert_eq!(
            pager.next(1000, Some("b".into())).expect("ok"),
            Some("b".into())
        );
        assert!(matches!(
            pager.next(1000, Some("a".into())),
            Err(TwitchError::PagingBroken(_))
        ));

        let mut pager = Pager::new("moderated_channels", 100, 3);
        assert!(pager.next(100, Some("1".into())).is_ok());
        assert!(pager.next(100, Some("2".into())).is_ok());
        assert!(matches!(
            pager.next(100, Some("3".into())),
            Err(TwitchError::PagingBroken(_))
        ));

        let mut pager = Pager::new("moderated_channels", 100, 3);
        assert_eq!(
            pager.next(100, None).expect("the end"),
            None,
            "a full page ends it too"
        );
        assert_eq!(Pager::chatters_pages(0), 5);
        assert_eq!(Pager::chatters_pages(12_345), 18);
    }
}
