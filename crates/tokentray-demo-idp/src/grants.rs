//! The provider's memory and the protocol's rules over it: pending login
//! pages, authorization codes (single use, 60 s, PKCE S256 checked), device
//! codes (RFC 8628), access tokens and refresh tokens (rotated at every
//! use; a replayed one revokes everything issued in its sign-in).
//!
//! Every token and code is 256 random bits. Nothing outlives the process.
//! Times are seconds since the epoch, passed in, so the rules are tested
//! without waiting.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::client::User;
pub use crate::exchange::{AuthRequest, Issued, TokenError};
use crate::ACCESS_TOKEN_TTL_SECS;

const LOGIN_PAGE_TTL_SECS: u64 = 600;
const CODE_TTL_SECS: u64 = 60;
pub const DEVICE_CODE_TTL_SECS: u64 = 600;
const REFRESH_TOKEN_TTL_SECS: u64 = 86_400;
/// The letters of device user codes: no vowels (no words), no look-alikes.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Debug)]
struct Code {
    request: AuthRequest,
    user: User,
    expires: u64,
}

#[derive(Debug)]
enum DeviceStatus {
    Pending,
    Approved(User),
    Denied,
}

#[derive(Debug)]
struct Device {
    user_code: String,
    scopes: Vec<String>,
    status: DeviceStatus,
    expires: u64,
}

/// A live access or refresh token; `family` is the sign-in it came from.
#[derive(Debug)]
struct Token {
    user: User,
    scopes: Vec<String>,
    family: u64,
    expires: u64,
}

#[derive(Debug, Default)]
struct Inner {
    login_pages: HashMap<String, (AuthRequest, u64)>,
    codes: HashMap<String, Code>,
    devices: HashMap<String, Device>,
    access: HashMap<String, Token>,
    refresh: HashMap<String, Token>,
    /// Used codes and refresh tokens: their family, until they would have
    /// expired (a replay revokes the family).
    used: HashMap<String, (u64, u64)>,
    families: u64,
}

/// The provider's state.
#[derive(Debug, Default)]
pub struct Grants {
    inner: Mutex<Inner>,
}

/// 256 random bits, base64url.
fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// S256 (RFC 7636 §4.6): a verifier of 43 to 128 unreserved characters
/// whose SHA-256, base64url, is the challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// A user code as typed: letters only, upper case.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Inner {
    fn prune(&mut self, now: u64) {
        self.login_pages.retain(|_, (_, expires)| *expires > now);
        self.codes.retain(|_, code| code.expires > now);
        self.devices.retain(|_, device| device.expires > now);
        self.access.retain(|_, token| token.expires > now);
        self.refresh.retain(|_, token| token.expires > now);
        self.used.retain(|_, (_, expires)| *expires > now);
    }

    /// Tokens for `user`: an access token, and a refresh token when the
    /// grant has `offline_access`.
    fn issue(
        &mut self,
        user: User,
        grant: &[String],
        scopes: Vec<String>,
        family: u64,
        now: u64,
    ) -> Issued {
        self.prune(now);
        let access_token = random_token();
        let token = |scopes: Vec<String>, ttl| Token {
            user: user.clone(),
            scopes,
            family,
            expires: now + ttl,
        };
        self.access.insert(
            access_token.clone(),
            token(scopes.clone(), ACCESS_TOKEN_TTL_SECS),
        );
        let refresh_token = grant.iter().any(|s| s == "offline_access").then(|| {
            let refresh_token = random_token();
            self.refresh.insert(
                refresh_token.clone(),
                token(grant.to_vec(), REFRESH_TOKEN_TTL_SECS),
            );
            refresh_token
        });
        Issued {
            access_token,
            refresh_token,
            openid: grant.iter().any(|s| s == "openid"),
            user,
            scopes,
            nonce: None,
        }
    }

    fn new_family(&mut self) -> u64 {
        self.families += 1;
        self.families
    }

    /// A replayed code or refresh token: everything of its sign-in goes.
    fn replayed(&mut self, value: &str) -> bool {
        let Some(&(family, _)) = self.used.get(value) else {
            return false;
        };
        self.access.retain(|_, token| token.family != family);
        self.refresh.retain(|_, token| token.family != family);
        tracing::info!(
            "demo provider: a used code or refresh token came back; its sign-in is revoked"
        );
        true
    }
}

impl Grants {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps a checked authorization request for its login page; returns
    /// the page's id.
    pub fn begin(&self, request: AuthRequest, now: u64) -> String {
        let mut inner = self.lock();
        inner.prune(now);
        let id = random_token();
        inner
            .login_pages
            .insert(id.clone(), (request, now + LOGIN_PAGE_TTL_SECS));
        id
    }

    /// The request of a login page still open.
    pub fn login_page(&self, id: &str, now: u64) -> Option<AuthRequest> {
        let inner = self.lock();
        let (request, expires) = inner.login_pages.get(id)?;
        (*expires > now).then(|| request.clone())
    }

    /// Closes a login page: with a user, returns its request and a new code
    /// for it; without (declined), its request only.
    pub fn finish_login(
        &self,
        id: &str,
        user: Option<User>,
        now: u64,
    ) -> Option<(AuthRequest, Option<String>)> {
        let mut inner = self.lock();
        let (request, expires) = inner.login_pages.remove(id)?;
        if expires <= now {
            return None;
        }
        let Some(user) = user else {
            return Some((request, None));
        };
        let code = random_token();
        let stored = Code {
            request: request.clone(),
            user,
            expires: now + CODE_TTL_SECS,
        };
        inner.codes.insert(code.clone(), stored);
        Some((request, Some(code)))
    }

    /// The `authorization_code` grant: the code is gone after this call,
    /// whatever its outcome.
    pub fn redeem_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        now: u64,
    ) -> Result<Issued, TokenError> {
        let mut inner = self.lock();
        let Some(found) = inner.codes.remove(code) else {
            inner.replayed(code);
            return Err(TokenError::InvalidGrant("unknown, used or expired code"));
        };
        let family = inner.new_family();
        inner
            .used
            .insert(code.to_owned(), (family, now + REFRESH_TOKEN_TTL_SECS));
        if found.expires <= now {
            return Err(TokenError::InvalidGrant("unknown, used or expired code"));
        }
        if found.request.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        if !pkce_matches(verifier, &found.request.challenge) {
            return Err(TokenError::InvalidGrant("PKCE verification failed"));
        }
        let scopes = found.request.scopes.clone();
        let mut issued = inner.issue(found.user, &scopes, scopes.clone(), family, now);
        issued.nonce = found.request.nonce;
        Ok(issued)
    }

    /// The `refresh_token` grant: the token is replaced by a new one (a
    /// replay of the old one revokes the sign-in); `scopes`, when given,
    /// may narrow the access token's.
    pub fn refresh(
        &self,
        token: &str,
        scopes: Option<Vec<String>>,
        now: u64,
    ) -> Result<Issued, TokenError> {
        let mut inner = self.lock();
        let Some(found) = inner.refresh.remove(token) else {
            inner.replayed(token);
            return Err(TokenError::InvalidGrant(
                "unknown, used or expired refresh token",
            ));
        };
        inner
            .used
            .insert(token.to_owned(), (found.family, found.expires));
        if found.expires <= now {
            return Err(TokenError::InvalidGrant(
                "unknown, used or expired refresh token",
            ));
        }
        let access_scopes = match scopes {
            Some(asked) if asked.iter().any(|s| !found.scopes.contains(s)) => {
                inner.refresh.insert(token.to_owned(), found);
                inner.used.remove(token);
                return Err(TokenError::InvalidScope);
            }
            Some(asked) if !asked.is_empty() => asked,
            _ => found.scopes.clone(),
        };
        Ok(inner.issue(found.user, &found.scopes, access_scopes, found.family, now))
    }

    /// Starts a device sign-in: the device code and the user code.
    pub fn start_device(&self, scopes: Vec<String>, now: u64) -> (String, String) {
        let mut inner = self.lock();
        inner.prune(now);
        let device_code = random_token();
        let user_code: String = (0..8)
            .map(|_| char::from(USER_CODE_LETTERS[rand::random_range(0..USER_CODE_LETTERS.len())]))
            .collect();
        let device = Device {
            user_code: user_code.clone(),
            scopes,
            status: DeviceStatus::Pending,
            expires: now + DEVICE_CODE_TTL_SECS,
        };
        inner.devices.insert(device_code.clone(), device);
        (device_code, user_code)
    }

    /// The user approved (`Some`) or declined (`None`) the pending device
    /// sign-in of `user_code`; false when there is none.
    pub fn answer_device(&self, user_code: &str, user: Option<User>, now: u64) -> bool {
        let wanted = normalize_user_code(user_code);
        let mut inner = self.lock();
        let pending = inner.devices.values_mut().find(|device| {
            device.user_code == wanted
                && device.expires > now
                && matches!(device.status, DeviceStatus::Pending)
        });
        let Some(device) = pending else {
            return false;
        };
        device.status = user.map_or(DeviceStatus::Denied, DeviceStatus::Approved);
        true
    }

    /// The device code grant: pending, declined, expired or the tokens
    /// (once: the device code is gone then).
    pub fn poll_device(&self, device_code: &str, now: u64) -> Result<Issued, TokenError> {
        let mut inner = self.lock();
        let Some(device) = inner.devices.get(device_code) else {
            return Err(TokenError::InvalidGrant("unknown or used device code"));
        };
        if device.expires <= now {
            inner.devices.remove(device_code);
            return Err(TokenError::ExpiredToken);
        }
        match device.status {
            DeviceStatus::Pending => return Err(TokenError::AuthorizationPending),
            DeviceStatus::Denied => {
                inner.devices.remove(device_code);
                return Err(TokenError::AccessDenied);
            }
            DeviceStatus::Approved(_) => {}
        }
        let Some(Device {
            status: DeviceStatus::Approved(user),
            scopes,
            ..
        }) = inner.devices.remove(device_code)
        else {
            return Err(TokenError::InvalidGrant("unknown or used device code"));
        };
        let family = inner.new_family();
        Ok(inner.issue(user, &scopes, scopes.clone(), family, now))
    }

    /// Who a live access token is for.
    pub fn user_of(&self, access_token: &str, now: u64) -> Option<User> {
        let inner = self.lock();
        inner
            .access
            .get(access_token)
            .filter(|token| token.expires > now)
            .map(|token| token.user.clone())
    }

    /// RFC 7009: forgets an access or refresh token (and, for a refresh
    /// token, its sign-in's access tokens).
    pub fn revoke(&self, token: &str) {
        let mut inner = self.lock();
        inner.access.remove(token);
        if let Some(refresh) = inner.refresh.remove(token) {
            inner
                .access
                .retain(|_, access| access.family != refresh.family);
        }
    }
}

#[cfg(test)]
#[path = "grants_tests.rs"]
mod tests;
