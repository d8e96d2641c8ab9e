//! The Helix endpoints we call: Get Users, the moderated channels, Get Chatters, Get Streams.

use std::time::Instant;

use chrono::Utc;
use serde::Deserialize;
use tca_common::twitch_api::{Channel, TwitchUser};

use super::helix::Paged;
use super::paging::Pager;
use super::{Actor, Twitch, TwitchError};
use crate::limiter::Bucket;

/// Get Moderated Channels pages (100 channels each) one pass may take: 10,000 channels.
/// The share of a moderator's bucket that enrichment leaves for their own captures and
/// actions: a 100k-chatter capture needs 100 points, a batch ban one a ban.
const SPARE_RESERVE: f64 = 0.25;
const MODERATED_CHANNELS_MAX_PAGES: u32 = 100;
/// How long listing a user's channels may take, all pages included.
const MODERATED_CHANNELS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct HelixChatter {
    pub user_id: String,
    pub user_login: String,
    pub user_name: String,
}

/// One page of Get Chatters.
#[derive(Debug)]
pub struct ChattersPage {
    pub data: Vec<HelixChatter>,
    pub cursor: Option<String>,
    pub total: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HelixStream {
    pub user_id: String,
    #[serde(default)]
    pub viewer_count: u32,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub game_name: String,
    #[serde(default)]
    pub started_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct ModeratedChannel {
    broadcaster_id: String,
    broadcaster_login: String,
    broadcaster_name: String,
}

impl Twitch {
    /// Get Users for any number of ids or logins: 100 per call, several calls at once. With
    /// `spare` (only for the app's look-ups), a call the app's bucket cannot take at once
    /// goes on that moderator's bucket while it keeps `SPARE_RESERVE` of it for their own
    /// captures, and back on the app's if their token is refused.
    pub async fn users(
        &self,
        actor: &Actor,
        spare: Option<&str>,
        ids: &[String],
        logins: &[String],
        deadline: Option<Instant>,
    ) -> Result<Vec<TwitchUser>, TwitchError> {
        use futures::StreamExt;
        // (is an id, value); owned and lifetime-free, or the futures would not be `Send`.
        let keyed: Vec<(bool, String)> = ids
            .iter()
            .map(|id| (true, id.clone()))
            .chain(logins.iter().map(|l| (false, l.clone())))
            .collect();
        let chunks: Vec<Vec<(bool, String)>> = keyed.chunks(100).map(<[_]>::to_vec).collect();
        let spare = spare.filter(|_| *actor == Actor::App);
        let pages = futures::stream::iter(chunks)
            .map(|chunk| async move {
                let query: Vec<(&str, &str)> = chunk
                    .iter()
                    .map(|(is_id, v)| (if *is_id { "id" } else { "login" }, v.as_str()))
                    .collect();
                if let Some(moderator) = spare.map(|id| Actor::User(id.to_string()))
                    && self.limiter.spare_points(&Bucket::App, 0.0) < 1.0
                    && self
                        .limiter
                        .spare_points(&moderator.bucket(), SPARE_RESERVE)
                        >= 1.0
                {
                    match self
                        .helix_get::<Paged<TwitchUser>>(
                            &moderator, "users", "users", &query, deadline,
                        )
                        .await
                    {
                        Ok(page) => {
                            metrics::counter!("twitch_lookups_on_moderator_bucket_total")
                                .increment(1);
                            return Ok(page.data);
                        }
                        Err(TwitchError::ReauthRequired(_) | TwitchError::ScopeMissing(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                self.helix_get::<Paged<TwitchUser>>(actor, "users", "users", &query, deadline)
                    .await
                    .map(|page| page.data)
            })
            .buffered(self.config.lookup_concurrency);
        let results: Vec<Result<Vec<TwitchUser>, TwitchError>> = pages.collect().await;
        let mut users = Vec::with_capacity(keyed.len());
        for result in results {
            users.extend(result?);
        }
        Ok(users)
    }

    /// The token's own user.
    pub async fn me(&self, user_id: &str) -> Result<TwitchUser, TwitchError> {
        let actor = Actor::User(user_id.to_string());
        let page: Paged<TwitchUser> = self.helix_get(&actor, "users", "users", &[], None).await?;
        page.data
            .into_iter()
            .next()
            .ok_or_else(|| TwitchError::NotFound("Twitch returned no user for this token".into()))
    }

    /// The user's own channel first, then every channel they moderate (all pages); cached
    /// for `channels_cache_ttl`.
    pub async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, TwitchError> {
        let ttl = self.config.channels_cache_ttl;
        if let Some((at, channels)) = self
            .channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            && at.elapsed() < ttl
        {
            return Ok(channels.clone());
        }
        let me = self.me(user_id).await?;
        let mut channels = vec![Channel {
            broadcaster_id: me.id.clone(),
            broadcaster_login: me.login.clone(),
            broadcaster_name: me.display_name.clone(),
            own: true,
        }];
        let actor = Actor::User(user_id.to_string());
        let mut cursor: Option<String> = None;
        let mut pager = Pager::new("moderated_channels", 100, MODERATED_CHANNELS_MAX_PAGES);
        // The whole list within a deadline: a slow Twitch must not hold the page forever.
        let deadline = Some(Instant::now() + MODERATED_CHANNELS_DEADLINE);
        loop {
            let mut query = vec![("user_id", user_id), ("first", "100")];
            if let Some(c) = &cursor {
                query.push(("after", c.as_str()));
            }
            let page: Paged<ModeratedChannel> = self
                .helix_get(
                    &actor,
                    "moderated_channels",
                    "moderation/channels",
                    &query,
                    deadline,
                )
                .await?;
            let len = page.data.len();
            channels.extend(
                page.data
                    .into_iter()
                    .filter(|c| c.broadcaster_id != me.id)
                    .map(|c| Channel {
                        broadcaster_id: c.broadcaster_id,
                        broadcaster_login: c.broadcaster_login,
                        broadcaster_name: c.broadcaster_name,
                        own: false,
                    }),
            );
            match pager.next(len, page.pagination.cursor.filter(|c| !c.is_empty()))? {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.channels_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), (Instant::now(), channels.clone()));
        Ok(channels)
    }

    /// One page of Get Chatters (1,000 chatters); the bucket is waited for until
    /// `bucket_deadline` at most (`helix_get_within`).
    pub async fn chatters_page(
        &self,
        broadcaster_id: &str,
        moderator_id: &str,
        after: Option<&str>,
        deadline: Option<Instant>,
        bucket_deadline: Option<Instant>,
    ) -> Result<ChattersPage, TwitchError> {
        let actor = Actor::User(moderator_id.to_string());
        let mut query = vec![
            ("broadcaster_id", broadcaster_id),
            ("moderator_id", moderator_id),
            ("first", "1000"),
        ];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let page: Paged<HelixChatter> = self
            .helix_get_within(
                &actor,
                "chatters",
                "chat/chatters",
                &query,
                deadline,
                bucket_deadline,
            )
            .await
            .map_err(|e| match e {
                // Our parameters are checked (ids are digits, `first` in range): Get Chatters'
                // 400 (documented: broadcaster_id or moderator_id invalid) is a channel that
                // does not exist.
                TwitchError::BadRequest(m) => {
                    TwitchError::NotFound(format!("the channel does not exist: {m}"))
                }
                other => other,
            })?;
        Ok(ChattersPage {
            total: page.total.unwrap_or(page.data.len() as u64),
            cursor: page.pagination.cursor.filter(|c| !c.is_empty()),
            data: page.data,
        })
    }

    /// Live streams among `user_ids` (≤ 100), as the app.
    pub async fn streams(&self, user_ids: &[String]) -> Result<Vec<HelixStream>, TwitchError> {
        let mut query: Vec<(&str, &str)> =
            user_ids.iter().map(|id| ("user_id", id.as_str())).collect();
        query.push(("first", "100"));
        let page: Paged<HelixStream> = self
            .helix_get(&Actor::App, "streams", "streams", &query, None)
            .await?;
        Ok(page.data)
    }
}
