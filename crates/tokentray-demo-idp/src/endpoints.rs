//! The demo provider's routes: discovery, JWKS, the authorization endpoint
//! and its login page, the token endpoint (code, refresh, device code), the
//! device authorization endpoint and its verification page, userinfo and
//! revocation. Requests are checked here (client, redirect URI, PKCE
//! parameters, scopes); the rules on codes and tokens live in `grants`.

use std::time::{SystemTime, UNIX_EPOCH};

use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use url::Url;

use crate::client::{self, User, CLIENT_ID, SCOPES};
use crate::grants::{AuthRequest, Grants, Issued, TokenError, DEVICE_CODE_TTL_SECS};
use crate::keys::Keys;
use crate::pages;
use crate::server::{html, json, redirect, text, Reply, Request};
use crate::{StartError, ACCESS_TOKEN_TTL_SECS};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The provider: its issuer, keys and memory.
pub struct Provider {
    issuer: String,
    port: u16,
    keys: Keys,
    grants: Grants,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// An OAuth error answer of the token-side endpoints.
fn oauth_error(status: StatusCode, code: &str, description: &str) -> Reply {
    json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

fn error_page(status: StatusCode, text: &str) -> Reply {
    html(status, pages::message("Sign-in refused", text))
}

impl Provider {
    pub fn new(issuer: String, port: u16) -> Result<Self, StartError> {
        Ok(Self {
            issuer,
            port,
            keys: Keys::generate()?,
            grants: Grants::default(),
        })
    }

    /// Whether a request's Host names this listener.
    pub fn is_own_host(&self, host: &str) -> bool {
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    pub fn handle(&self, request: &Request) -> Reply {
        let get = request.method == Method::GET;
        let post = request.method == Method::POST;
        match request.path.as_str() {
            "/.well-known/openid-configuration" if get => json(StatusCode::OK, &self.discovery()),
            "/jwks" if get => json(StatusCode::OK, &self.keys.jwks()),
            "/authorize" if get => self.authorize(request),
            "/authorize" if post => self.login(request),
            "/token" if post => self.token(request),
            "/device/code" if post => self.device_authorization(request),
            "/device" if get => html(
                StatusCode::OK,
                pages::device(request.text("user_code"), "", None),
            ),
            "/device" if post => self.device_answer(request),
            "/userinfo" if get || post => self.userinfo(request),
            "/revoke" if post => self.revoke(request),
            _ => text(StatusCode::NOT_FOUND, "not found"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "jwks_uri": self.url("/jwks"),
            "userinfo_endpoint": self.url("/userinfo"),
            "device_authorization_endpoint": self.url("/device/code"),
            "revocation_endpoint": self.url("/revoke"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "preferred_username", "email", "email_verified"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    /// `redirect_uri` with the answer's parameters, `state` and `iss`.
    fn answer_to(&self, redirect_uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
        let Ok(mut url) = Url::parse(redirect_uri) else {
            return error_page(StatusCode::BAD_REQUEST, "The redirect URI is not a URL.");
        };
        {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(pairs);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        redirect(url.as_str())
    }

    /// GET /authorize: checks the request, then shows the login page. An
    /// unknown client or redirect URI is shown, never redirected to.
    fn authorize(&self, request: &Request) -> Reply {
        if request.param("client_id") != Some(CLIENT_ID) {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Unknown client: this demo provider serves Tokentray's demo only.",
            );
        }
        let redirect_uri = request.text("redirect_uri");
        if !client::redirect_allowed(redirect_uri) {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This redirect URI is not registered for the demo client.",
            );
        }
        let state = request.param("state");
        let refuse = |code: &str, why: &str| {
            self.answer_to(
                redirect_uri,
                state,
                &[("error", code), ("error_description", why)],
            )
        };
        if request.param("response_type") != Some("code") {
            return refuse("unsupported_response_type", "only response_type=code");
        }
        let challenge = request.text("code_challenge");
        if request.param("code_challenge_method") != Some("S256") || challenge.len() != 43 {
            return refuse("invalid_request", "PKCE with S256 is required");
        }
        let Some(scopes) = client::scopes(request.text("scope")) else {
            return refuse("invalid_scope", "a scope the demo client may not have");
        };
        if request.text("prompt").split(' ').any(|p| p == "none") {
            return refuse("login_required", "the demo provider keeps no session");
        }
        let auth = AuthRequest {
            redirect_uri: redirect_uri.to_owned(),
            state: state.map(str::to_owned),
            scopes,
            challenge: challenge.to_owned(),
            nonce: request.param("nonce").map(str::to_owned),
        };
        let page = self.grants.begin(auth, now());
        html(StatusCode::OK, pages::login(&page, "", None))
    }

    /// POST /authorize: the login page's answer.
    fn login(&self, request: &Request) -> Reply {
        let page = request.text("page");
        let now = now();
        let user = if request.param("action") == Some("cancel") {
            None
        } else {
            let login = request.text("login");
            match client::authenticate(login, request.text("password")) {
                Some(user) => Some(user),
                None if self.grants.login_page(page, now).is_some() => {
                    let error = "Unknown demo user or wrong password.";
                    return html(StatusCode::OK, pages::login(page, login, Some(error)));
                }
                None => None,
            }
        };
        let Some((auth, code)) = self.grants.finish_login(page, user, now) else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in page has expired: start the sign-in again from Tokentray.",
            );
        };
        let state = auth.state.as_deref();
        match code {
            Some(code) => self.answer_to(&auth.redirect_uri, state, &[("code", &code)]),
            None => self.answer_to(&auth.redirect_uri, state, &[("error", "access_denied")]),
        }
    }

    /// POST /token.
    fn token(&self, request: &Request) -> Reply {
        if request.param("client_id") != Some(CLIENT_ID) {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
        }
        let now = now();
        let issued = match request.text("grant_type") {
            "authorization_code" => self.grants.redeem_code(
                request.text("code"),
                request.text("redirect_uri"),
                request.text("code_verifier"),
                now,
            ),
            "refresh_token" => {
                let scopes = match request.param("scope").map(client::scopes) {
                    Some(None) => Err(TokenError::InvalidScope),
                    Some(Some(scopes)) => Ok(Some(scopes)),
                    None => Ok(None),
                };
                scopes.and_then(|scopes| {
                    self.grants
                        .refresh(request.text("refresh_token"), scopes, now)
                })
            }
            DEVICE_GRANT => self.grants.poll_device(request.text("device_code"), now),
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "not a grant of the demo client",
                )
            }
        };
        match issued {
            Ok(issued) => json(StatusCode::OK, &self.token_response(issued, now)),
            Err(error) => oauth_error(StatusCode::BAD_REQUEST, error.code(), error.description()),
        }
    }

    fn token_response(&self, issued: Issued, now: u64) -> Value {
        let mut body = json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_SECS,
            "scope": issued.scopes.join(" "),
        });
        if let Some(refresh_token) = issued.refresh_token {
            body["refresh_token"] = json!(refresh_token);
        }
        if issued.openid {
            let mut claims = json!({
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + ACCESS_TOKEN_TTL_SECS,
            });
            if let (Some(target), Value::Object(profile)) =
                (claims.as_object_mut(), user_claims(&issued.user))
            {
                target.extend(profile);
            }
            if let Some(nonce) = issued.nonce {
                claims["nonce"] = json!(nonce);
            }
            body["id_token"] = json!(self.keys.sign(&claims));
        }
        body
    }

    /// POST /device/code (RFC 8628 §3.1). No `interval`: clients poll
    /// every 5 s, as with `tests/idp`.
    fn device_authorization(&self, request: &Request) -> Reply {
        if request.param("client_id") != Some(CLIENT_ID) {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
        }
        let Some(scopes) = client::scopes(request.text("scope")) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "a scope the demo client may not have",
            );
        };
        let (device_code, user_code) = self.grants.start_device(scopes, now());
        let shown = format!("{}-{}", &user_code[..4], &user_code[4..]);
        let verification_uri = self.url("/device");
        json(
            StatusCode::OK,
            &json!({
                "device_code": device_code,
                "user_code": shown,
                "verification_uri": verification_uri,
                "verification_uri_complete": format!("{verification_uri}?user_code={shown}"),
                "expires_in": DEVICE_CODE_TTL_SECS,
            }),
        )
    }

    /// POST /device: the verification page's answer.
    fn device_answer(&self, request: &Request) -> Reply {
        let user_code = request.text("user_code");
        let login = request.text("login");
        let now = now();
        if request.param("action") == Some("deny") {
            let text = if self.grants.answer_device(user_code, None, now) {
                "The sign-in was declined. You can close this page."
            } else {
                "No sign-in waits for this code."
            };
            return html(StatusCode::OK, pages::message("Declined", text));
        }
        let Some(user) = client::authenticate(login, request.text("password")) else {
            let error = "Unknown demo user or wrong password.";
            return html(StatusCode::OK, pages::device(user_code, login, Some(error)));
        };
        let name = user.name.clone();
        if !self.grants.answer_device(user_code, Some(user), now) {
            let error = "No sign-in waits for this code: check it, or start again in Tokentray.";
            return html(StatusCode::OK, pages::device(user_code, login, Some(error)));
        }
        let text = format!("Signed in as {name}. Return to Tokentray; you can close this page.");
        html(StatusCode::OK, pages::message("Approved", &text))
    }

    /// POST /revoke (RFC 7009): unknown tokens are fine, unknown clients
    /// are not.
    fn revoke(&self, request: &Request) -> Reply {
        if request.param("client_id") != Some(CLIENT_ID) {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
        }
        self.grants.revoke(request.text("token"));
        text(StatusCode::OK, "")
    }

    /// GET /userinfo with the access token as Bearer.
    fn userinfo(&self, request: &Request) -> Reply {
        match request
            .bearer
            .as_deref()
            .and_then(|token| self.grants.user_of(token, now()))
        {
            Some(user) => json(StatusCode::OK, &user_claims(&user)),
            None => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "unknown or expired access token",
            ),
        }
    }
}

/// A user's claims, for ID tokens and userinfo.
fn user_claims(user: &User) -> Value {
    json!({
        "sub": user.login,
        "name": user.name,
        "preferred_username": user.login,
        "email": user.email,
        "email_verified": true,
    })
}
