//! What each endpoint of the hostile provider answers: correct OpenID
//! Connect by default, bent by the current [`Misbehaviour`].

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use url::Url;

use super::jws::{self, Signing};
use super::wire::{Answer, Request};
use super::{Endpoint, IdTokenFault, Misbehaviour, Shared, EXPIRES_IN, SUBJECT};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Size of a [`Misbehaviour::HugeBody`] answer.
const HUGE: usize = 50 * 1024 * 1024;

fn endpoint(path: &str) -> Option<Endpoint> {
    Some(match path {
        "/.well-known/openid-configuration" => Endpoint::Discovery,
        "/jwks" => Endpoint::Jwks,
        "/authorize" => Endpoint::Authorize,
        "/token" => Endpoint::Token,
        "/device_authorization" => Endpoint::DeviceAuthorization,
        _ => return None,
    })
}

fn json(status: u16, value: &Value) -> Answer {
    Answer::Body {
        status,
        body: value.to_string().into_bytes(),
    }
}

fn oauth_error(code: &str) -> Answer {
    json(
        400,
        &json!({"error": code, "error_description": "said the hostile provider"}),
    )
}

/// The answer to one request.
pub(super) fn answer(shared: &Shared, request: &Request) -> Answer {
    let Some(endpoint) = endpoint(&request.path) else {
        return json(404, &json!({"error": "not_found"}));
    };
    let misbehaviour = {
        let mut state = shared.state();
        *state.requests.entry(endpoint).or_default() += 1;
        state.misbehaviour.clone()
    };
    match misbehaviour {
        Misbehaviour::Status(at, status) if at == endpoint => {
            return Answer::Body {
                status,
                body: b"the hostile provider is having a bad day".to_vec(),
            }
        }
        Misbehaviour::Hang(at) if at == endpoint => return Answer::Hang,
        Misbehaviour::Trickle(at) if at == endpoint => return Answer::Trickle,
        Misbehaviour::MalformedJson(at) if at == endpoint => {
            return Answer::Body {
                status: 200,
                body: br#"{"access_token":"hostile-truncated","token_type":"#.to_vec(),
            }
        }
        Misbehaviour::HugeBody(at) if at == endpoint => return Answer::Endless { size: HUGE },
        Misbehaviour::Redirect(at, location) if at == endpoint => {
            return Answer::Redirect { location }
        }
        _ => {}
    }
    match endpoint {
        Endpoint::Discovery => json(200, &discovery(shared, &misbehaviour)),
        Endpoint::Jwks => match jws::jwks(matches!(
            misbehaviour,
            Misbehaviour::IdToken(IdTokenFault::RotatedKey)
        )) {
            Ok(keys) => json(200, &keys),
            Err(error) => json(500, &json!({"error": error.message()})),
        },
        Endpoint::Authorize => match approve_counted(shared, &request.query, false) {
            Ok(location) => Answer::Redirect { location },
            Err(why) => json(400, &json!({"error": "invalid_request", "why": why})),
        },
        Endpoint::Token => token(shared, request, &misbehaviour),
        Endpoint::DeviceAuthorization => device_authorization(shared, &misbehaviour),
    }
}

fn discovery(shared: &Shared, misbehaviour: &Misbehaviour) -> Value {
    let issuer = &shared.issuer;
    let named = match misbehaviour {
        Misbehaviour::DiscoveryIssuer(other) => other.clone(),
        _ => issuer.clone(),
    };
    let token_endpoint = match misbehaviour {
        Misbehaviour::TokenEndpoint(other) => other.clone(),
        _ => format!("{issuer}/token"),
    };
    json!({
        "issuer": named,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": token_endpoint,
        "jwks_uri": format!("{issuer}/jwks"),
        "device_authorization_endpoint": format!("{issuer}/device_authorization"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT, "client_credentials"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// The redirect for an approved authorize request (see
/// [`super::HostileIdp::callback_for`]).
pub(super) fn approve(shared: &Shared, query: &str) -> Result<String, String> {
    approve_counted(shared, query, true)
}

fn approve_counted(shared: &Shared, query: &str, count: bool) -> Result<String, String> {
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let redirect = param("redirect_uri").ok_or("no redirect_uri")?;
    let mut redirect = Url::parse(&redirect).map_err(|err| format!("redirect_uri: {err}"))?;
    let state = param("state").ok_or("no state")?;
    if param("code_challenge_method").as_deref() != Some("S256") {
        return Err("PKCE S256 is required".into());
    }
    let mut shared_state = shared.state();
    if count {
        *shared_state
            .requests
            .entry(Endpoint::Authorize)
            .or_default() += 1;
    }
    shared_state.issued += 1;
    let code = format!("hostile-code-{}", shared_state.issued);
    shared_state.codes.insert(code.clone(), param("nonce"));
    let iss = match &shared_state.misbehaviour {
        Misbehaviour::CallbackIss(iss) => iss.clone(),
        _ => Some(shared.issuer.clone()),
    };
    drop(shared_state);
    {
        let mut pairs = redirect.query_pairs_mut();
        pairs
            .append_pair("code", &code)
            .append_pair("state", &state);
        if let Some(iss) = iss {
            pairs.append_pair("iss", &iss);
        }
    }
    Ok(redirect.into())
}

fn device_authorization(shared: &Shared, misbehaviour: &Misbehaviour) -> Answer {
    let expires_in = match misbehaviour {
        Misbehaviour::DeviceNeverApproved { expires_in } => *expires_in,
        _ => 600,
    };
    let n = {
        let mut state = shared.state();
        state.issued += 1;
        state.issued
    };
    let user_code = format!("HOST-{n:04}");
    let verification_uri = match misbehaviour {
        Misbehaviour::VerificationUri(uri) => uri.clone(),
        _ => format!("{}/device", shared.issuer),
    };
    // No `interval` unless asked: the client's default applies (tests make
    // it short).
    let mut body = json!({
        "device_code": format!("hostile-device-{n}"),
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
        "expires_in": expires_in,
    });
    if let Misbehaviour::DeviceInterval(secs) = misbehaviour {
        body["interval"] = json!(secs);
    }
    json(200, &body)
}

fn token(shared: &Shared, request: &Request, misbehaviour: &Misbehaviour) -> Answer {
    let client_id = request
        .form("client_id")
        .unwrap_or_else(|| "unknown".into());
    let nonce = match request.form("grant_type").as_deref() {
        Some("authorization_code") => {
            let code = request.form("code").unwrap_or_default();
            match shared.state().codes.remove(&code) {
                Some(nonce) => nonce,
                None => return oauth_error("invalid_grant"),
            }
        }
        Some("refresh_token") => {
            if !request
                .form("refresh_token")
                .is_some_and(|t| t.starts_with("hostile-rt-"))
            {
                return oauth_error("invalid_grant");
            }
            None
        }
        Some(DEVICE_GRANT) => {
            if let Some(refusal) = device_poll(shared, misbehaviour) {
                return refusal;
            }
            None
        }
        Some("client_credentials") => return json(200, &tokens(shared, misbehaviour, None)),
        _ => return oauth_error("unsupported_grant_type"),
    };
    let id_token = match id_token(shared, misbehaviour, &client_id, nonce) {
        Ok(token) => token,
        Err(error) => return json(500, &json!({"error": error.message()})),
    };
    json(200, &tokens(shared, misbehaviour, Some(id_token)))
}

/// Records a device poll; `Some` refusal while the device is not approved.
fn device_poll(shared: &Shared, misbehaviour: &Misbehaviour) -> Option<Answer> {
    let mut state = shared.state();
    state.device_polls.push(Instant::now());
    let polls = state.device_polls.len();
    drop(state);
    match misbehaviour {
        Misbehaviour::SlowDown(n) if polls <= *n as usize => Some(oauth_error("slow_down")),
        Misbehaviour::DeviceError(code) => Some(oauth_error(code)),
        Misbehaviour::DeviceNeverApproved { .. } => Some(oauth_error("authorization_pending")),
        // Approved by the second poll.
        _ if polls < 2 => Some(oauth_error("authorization_pending")),
        _ => None,
    }
}

fn tokens(shared: &Shared, misbehaviour: &Misbehaviour, id_token: Option<String>) -> Value {
    let n = {
        let mut state = shared.state();
        state.issued += 1;
        state.issued
    };
    let mut body = json!({
        "access_token": format!("hostile-at-{n}"),
        "token_type": "Bearer",
        "expires_in": EXPIRES_IN,
    });
    match misbehaviour {
        Misbehaviour::NoExpiresIn => {
            if let Some(fields) = body.as_object_mut() {
                fields.remove("expires_in");
            }
        }
        Misbehaviour::TokenType(kind) => body["token_type"] = json!(kind),
        Misbehaviour::ExpiresIn(value) => body["expires_in"] = value.clone(),
        _ => {}
    }
    if let Some(id_token) = id_token {
        body["id_token"] = json!(id_token);
        body["refresh_token"] = json!(format!("hostile-rt-{n}"));
    }
    body
}

fn id_token(
    shared: &Shared,
    misbehaviour: &Misbehaviour,
    client_id: &str,
    nonce: Option<String>,
) -> crate::Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": SUBJECT,
        "aud": client_id,
        "iat": now,
        "exp": now + 600,
        "name": "Mallory Hostile",
        "preferred_username": SUBJECT,
        "email": "mallory@hostile.test",
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    let mut signing = Signing::Known;
    if let Misbehaviour::IdToken(fault) = misbehaviour {
        match fault {
            IdTokenFault::AlgNone => signing = Signing::None,
            IdTokenFault::UnknownKey => signing = Signing::Unknown,
            IdTokenFault::RotatedKey => signing = Signing::Rotated,
            IdTokenFault::Issuer(iss) => claims["iss"] = json!(iss),
            IdTokenFault::Audience(aud) => claims["aud"] = json!(aud),
            IdTokenFault::Nonce(nonce) => claims["nonce"] = json!(nonce),
            IdTokenFault::Claim(name, value) => claims[name.as_str()] = value.clone(),
            IdTokenFault::Expired => {
                claims["iat"] = json!(now - 1200);
                claims["exp"] = json!(now - 600);
            }
        }
    }
    jws::sign(&claims, signing)
}
