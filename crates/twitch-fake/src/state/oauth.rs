//! Authorization codes, user and app tokens, refresh, validation and revocation.

use std::time::Duration;

use chrono::Utc;

use super::{AccessToken, Code, Inner, RefreshGrant, Subject, TokenResponse, to_chrono};
use crate::world::AccountIdx;

impl Inner {
    fn random_token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.token_rng.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    pub fn issue_code(
        &mut self,
        account: AccountIdx,
        scopes: Vec<String>,
        redirect_uri: String,
        lifetime: Duration,
    ) -> String {
        let code = self.random_token(30);
        self.codes.insert(
            code.clone(),
            Code {
                account,
                scopes,
                redirect_uri,
                expires_at: Utc::now() + to_chrono(lifetime),
            },
        );
        code
    }

    /// Consumes a code (single use): `Err` says why it is refused.
    pub fn redeem_code(
        &mut self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(AccountIdx, Vec<String>), &'static str> {
        let Some(found) = self.codes.remove(code) else {
            return Err("Invalid authorization code");
        };
        if found.expires_at <= Utc::now() {
            return Err("Invalid authorization code");
        }
        if found.redirect_uri != redirect_uri {
            return Err("Parameter redirect_uri does not match registered URI");
        }
        Ok((found.account, found.scopes))
    }

    pub fn issue_user_tokens(
        &mut self,
        account: AccountIdx,
        scopes: Vec<String>,
        lifetime: Duration,
    ) -> TokenResponse {
        let refresh = self.random_token(50);
        self.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                account,
                scopes: scopes.clone(),
            },
        );
        let access = self.random_token(30);
        self.access.insert(
            access.clone(),
            AccessToken {
                subject: Subject::User(account),
                scopes: scopes.clone(),
                expires_at: Utc::now() + to_chrono(lifetime),
                revoked: false,
                grant: Some(refresh.clone()),
            },
        );
        TokenResponse {
            access_token: access,
            expires_in: lifetime.as_secs(),
            refresh_token: Some(refresh),
            scope: Some(scopes),
            token_type: "bearer",
        }
    }

    /// Rotates a refresh token: the old one stops working, a new pair is issued.
    pub fn refresh(&mut self, refresh_token: &str, lifetime: Duration) -> Option<TokenResponse> {
        let grant = self.refresh.remove(refresh_token)?;
        Some(self.issue_user_tokens(grant.account, grant.scopes, lifetime))
    }

    pub fn issue_app_token(&mut self, lifetime: Duration) -> TokenResponse {
        let access = self.random_token(30);
        self.access.insert(
            access.clone(),
            AccessToken {
                subject: Subject::App,
                scopes: Vec::new(),
                expires_at: Utc::now() + to_chrono(lifetime),
                revoked: false,
                grant: None,
            },
        );
        TokenResponse {
            access_token: access,
            expires_in: lifetime.as_secs(),
            refresh_token: None,
            scope: None,
            token_type: "bearer",
        }
    }

    /// A usable access token (known, not revoked, not expired).
    pub fn valid_token(&self, token: &str) -> Option<&AccessToken> {
        self.access
            .get(token)
            .filter(|t| !t.revoked && t.expires_at > Utc::now())
    }

    /// Revokes an access token and, for a user, the grant it came from (the user
    /// disconnected the app). `false` if the token is unknown.
    pub fn revoke(&mut self, token: &str) -> bool {
        let grant = match self.access.get_mut(token) {
            Some(found) => {
                found.revoked = true;
                found.grant.clone()
            }
            None => return false,
        };
        if let Some(grant) = grant {
            self.refresh.remove(&grant);
        }
        true
    }

    /// The live access and refresh tokens of `account` (for tests that look for them).
    pub fn tokens_of(&self, account: AccountIdx) -> (Vec<String>, Vec<String>) {
        let now = Utc::now();
        let access = self
            .access
            .iter()
            .filter(|(_, t)| {
                t.subject == Subject::User(account) && !t.revoked && t.expires_at > now
            })
            .map(|(token, _)| token.clone())
            .collect();
        let refresh = self
            .refresh
            .iter()
            .filter(|(_, g)| g.account == account)
            .map(|(token, _)| token.clone())
            .collect();
        (access, refresh)
    }

    /// Expires now every access token of `account` (or the one given). Returns how many.
    pub fn expire_tokens(&mut self, account: Option<AccountIdx>, token: Option<&str>) -> usize {
        let now = Utc::now();
        let mut expired = 0;
        for (value, t) in &mut self.access {
            let matches = token.is_some_and(|tok| tok == value)
                || account.is_some_and(|a| t.subject == Subject::User(a));
            if matches {
                t.expires_at = now - chrono::Duration::seconds(1);
                expired += 1;
            }
        }
        expired
    }

    /// Invalidates every refresh token of `account` (as if the user changed password).
    pub fn revoke_grants(&mut self, account: AccountIdx) -> usize {
        let before = self.refresh.len();
        self.refresh.retain(|_, g| g.account != account);
        before - self.refresh.len()
    }
}
