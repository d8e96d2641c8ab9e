//! Live-update streams (Server-Sent Events) in use, per web session and per user: each is
//! a long-held connection, so their number is capped (`SSE_STREAMS_PER_SESSION`,
//! `SSE_STREAMS_PER_USER`); one more is refused with a 429 that says why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The streams open now.
#[derive(Debug, Default)]
pub struct Streams {
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    per_web_session: HashMap<u64, u32>,
    per_user: HashMap<u64, u32>,
}

/// One open stream; dropping it (the stream ended, the client went away) frees its place.
#[derive(Debug)]
pub struct StreamPlace {
    streams: Arc<Streams>,
    web_session: u64,
    user: u64,
}

/// Why a stream was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    WebSession(u32),
    User(u32),
}

impl Streams {
    /// A place for a new stream of `user` in `web_session`, unless either is at its cap.
    pub fn open(
        self: &Arc<Self>,
        web_session: u64,
        user: u64,
        per_session: u32,
        per_user: u32,
    ) -> Result<StreamPlace, Refused> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.per_web_session.get(&web_session).copied().unwrap_or(0) >= per_session {
            return Err(Refused::WebSession(per_session));
        }
        if open.per_user.get(&user).copied().unwrap_or(0) >= per_user {
            return Err(Refused::User(per_user));
        }
        *open.per_web_session.entry(web_session).or_default() += 1;
        *open.per_user.entry(user).or_default() += 1;
        Ok(StreamPlace {
            streams: self.clone(),
            web_session,
            user,
        })
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        let Counts {
            per_web_session,
            per_user,
        } = &mut *open;
        for (map, key) in [(per_web_session, self.web_session), (per_user, self.user)] {
            if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

/// A place for a live-update stream of `user`, within the configured caps; a 429 that says
/// which cap otherwise (the session page's and a batch's streams alike).
pub fn place_for(
    state: &crate::state::AppState,
    user: &crate::auth::CurrentUser,
) -> Result<StreamPlace, crate::error::AppError> {
    use crate::i18n::t1;
    state
        .streams
        .open(
            user.web_session_id,
            user.id,
            state.config.streams_per_session,
            state.config.streams_per_user,
        )
        .map_err(|refused| {
            crate::error::AppError::TooManyStreams(match refused {
                Refused::WebSession(n) => t1("error-streams-session", "limit", n),
                Refused::User(n) => t1("error-streams-user", "limit", n),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_web_session_and_per_user_and_freed_on_drop() {
        let streams = Arc::new(Streams::default());
        let a = streams.open(1, 7, 2, 3).expect("first");
        let _b = streams.open(1, 7, 2, 3).expect("second");
        assert_eq!(
            streams.open(1, 7, 2, 3).expect_err("at the cap"),
            Refused::WebSession(2)
        );
        let _c = streams.open(2, 7, 2, 3).expect("another browser");
        assert_eq!(
            streams.open(3, 7, 2, 3).expect_err("at the cap"),
            Refused::User(3)
        );
        drop(a);
        streams.open(1, 7, 2, 3).expect("a place was freed");
    }
}
