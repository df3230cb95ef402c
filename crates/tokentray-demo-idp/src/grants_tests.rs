//! The protocol rules of `grants`: PKCE, single-use codes, rotation and
//! replay, device codes, expiry (times passed in, no waiting).

use super::*;
use crate::client::user;

const NOW: u64 = 1_000_000;
/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:4567/callback";

fn request(scopes: &[&str]) -> AuthRequest {
    AuthRequest {
        redirect_uri: REDIRECT.into(),
        state: Some("s".into()),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        challenge: CHALLENGE.into(),
        nonce: Some("n".into()),
    }
}

/// A code for alice, as the login page makes it.
fn code(grants: &Grants, scopes: &[&str]) -> String {
    let page = grants.begin(request(scopes), NOW);
    let (_, code) = grants
        .finish_login(&page, Some(user("alice")), NOW)
        .unwrap();
    code.unwrap()
}

// S43: the demo provider: PKCE S256
#[test]
fn pkce_s256_matches_only_the_verifier() {
    assert!(pkce_matches(VERIFIER, CHALLENGE));
    assert!(!pkce_matches(&VERIFIER.replace('d', "e"), CHALLENGE));
    assert!(!pkce_matches(CHALLENGE, CHALLENGE), "plain is not S256");
    assert!(!pkce_matches("", ""));
    let short = &VERIFIER[..42];
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(short.as_bytes()));
    assert!(
        !pkce_matches(short, &challenge),
        "verifiers have ≥ 43 characters"
    );
}

// S43: the demo provider: single-use codes, PKCE checked
#[test]
fn a_code_is_redeemed_once_with_its_verifier_and_redirect() {
    let grants = Grants::default();
    let first = code(&grants, &["openid", "offline_access", "api.read"]);
    let issued = grants
        .redeem_code(&first, REDIRECT, VERIFIER, NOW + 1)
        .unwrap();
    assert_eq!(issued.user.login, "alice");
    assert_eq!(issued.nonce.as_deref(), Some("n"));
    assert!(issued.openid);
    assert!(issued.refresh_token.is_some(), "offline_access");
    // what a failed unwrap would print holds neither token
    let shown = format!("{issued:?}");
    assert!(!shown.contains(&issued.access_token), "{shown}");
    assert!(!shown.contains(issued.refresh_token.as_deref().unwrap_or_default()));
    assert!(shown.contains("alice"), "{shown}");
    let again = grants
        .redeem_code(&first, REDIRECT, VERIFIER, NOW + 2)
        .unwrap_err();
    assert_eq!(again.code(), "invalid_grant");
    // the replay revoked what the code gave
    assert_eq!(grants.user_of(&issued.access_token, NOW + 3), None);
    let refresh = issued.refresh_token.unwrap();
    assert!(grants.refresh(&refresh, None, NOW + 3).is_err());

    // a wrong verifier or redirect burns the code too
    let second = code(&grants, &["openid"]);
    let wrong = grants
        .redeem_code(&second, REDIRECT, &VERIFIER.replace('d', "e"), NOW)
        .unwrap_err();
    assert_eq!(wrong, TokenError::InvalidGrant("PKCE verification failed"));
    assert!(grants
        .redeem_code(&second, REDIRECT, VERIFIER, NOW)
        .is_err());
    let third = code(&grants, &["openid"]);
    let elsewhere = grants
        .redeem_code(&third, "http://127.0.0.1:4568/callback", VERIFIER, NOW)
        .unwrap_err();
    assert_eq!(elsewhere.code(), "invalid_grant");
    assert!(grants.redeem_code(&third, REDIRECT, VERIFIER, NOW).is_err());
}

// S43: the demo provider: short-lived codes
#[test]
fn codes_live_sixty_seconds() {
    let grants = Grants::default();
    let late = code(&grants, &["openid"]);
    assert!(grants
        .redeem_code(&late, REDIRECT, VERIFIER, NOW + CODE_TTL_SECS)
        .is_err());
    let in_time = code(&grants, &["openid"]);
    let issued = grants
        .redeem_code(&in_time, REDIRECT, VERIFIER, NOW + CODE_TTL_SECS - 1)
        .unwrap();
    assert!(
        issued.refresh_token.is_none(),
        "no offline_access, no refresh token"
    );
}

#[test]
fn a_declined_or_expired_login_page_gives_no_code() {
    let grants = Grants::default();
    let page = grants.begin(request(&["openid"]), NOW);
    let (request, code) = grants.finish_login(&page, None, NOW).unwrap();
    assert_eq!(request.state.as_deref(), Some("s"));
    assert_eq!(code, None);
    assert!(
        grants
            .finish_login(&page, Some(user("alice")), NOW)
            .is_none(),
        "closed"
    );
    let old = grants.begin(self::request(&["openid"]), NOW);
    assert!(grants.login_page(&old, NOW + LOGIN_PAGE_TTL_SECS).is_none());
    assert!(grants
        .finish_login(&old, Some(user("alice")), NOW + LOGIN_PAGE_TTL_SECS)
        .is_none());
}

// S43: the demo provider: refresh token rotation and replay
#[test]
fn refresh_tokens_rotate_and_a_replay_revokes_the_sign_in() {
    let grants = Grants::default();
    let first = code(&grants, &["openid", "offline_access", "api.read"]);
    let signed_in = grants.redeem_code(&first, REDIRECT, VERIFIER, NOW).unwrap();
    let old = signed_in.refresh_token.unwrap();
    let rotated = grants
        .refresh(&old, Some(vec!["api.read".into()]), NOW + 10)
        .unwrap();
    let new = rotated.refresh_token.clone().unwrap();
    assert_ne!(new, old);
    assert_eq!(rotated.scopes, ["api.read"], "narrowed");
    assert!(
        rotated.openid,
        "the sign-in had openid: an ID token comes back"
    );
    assert_eq!(
        grants
            .user_of(&rotated.access_token, NOW + 11)
            .unwrap()
            .login,
        "alice"
    );

    // the old one is spent; its replay revokes the new ones as well
    let replay = grants.refresh(&old, None, NOW + 20).unwrap_err();
    assert_eq!(replay.code(), "invalid_grant");
    assert!(grants.refresh(&new, None, NOW + 21).is_err());
    assert_eq!(grants.user_of(&rotated.access_token, NOW + 21), None);
}

#[test]
fn a_refresh_cannot_widen_the_scope_and_keeps_the_token_then() {
    let grants = Grants::default();
    let first = code(&grants, &["openid", "offline_access", "api.read"]);
    let token = grants
        .redeem_code(&first, REDIRECT, VERIFIER, NOW)
        .unwrap()
        .refresh_token
        .unwrap();
    let wider = grants
        .refresh(&token, Some(vec!["api.write".into()]), NOW)
        .unwrap_err();
    assert_eq!(wider, TokenError::InvalidScope);
    let same = grants.refresh(&token, None, NOW).unwrap();
    assert_eq!(same.scopes, ["openid", "offline_access", "api.read"]);
}

#[test]
fn device_codes_wait_for_the_user_then_give_tokens_once() {
    let grants = Grants::default();
    let scopes = vec!["openid".to_owned(), "offline_access".to_owned()];
    let (device, user_code) = grants.start_device(scopes.clone(), NOW);
    assert_eq!(user_code.len(), 8);
    assert_eq!(
        grants.poll_device(&device, NOW + 5).unwrap_err(),
        TokenError::AuthorizationPending
    );
    let typed = format!(" {}-{} ", &user_code[..4], user_code[4..].to_lowercase());
    assert!(grants.answer_device(&typed, Some(user("bob")), NOW + 6));
    assert!(
        !grants.answer_device(&user_code, Some(user("alice")), NOW + 7),
        "answered once"
    );
    let issued = grants.poll_device(&device, NOW + 10).unwrap();
    assert_eq!(issued.user.login, "bob");
    assert!(issued.refresh_token.is_some());
    assert_eq!(issued.nonce, None);
    assert_eq!(
        grants.poll_device(&device, NOW + 15).unwrap_err().code(),
        "invalid_grant"
    );

    let (declined, code) = grants.start_device(scopes.clone(), NOW);
    assert!(grants.answer_device(&code, None, NOW + 1));
    assert_eq!(
        grants.poll_device(&declined, NOW + 5).unwrap_err(),
        TokenError::AccessDenied
    );

    let (late, code) = grants.start_device(scopes, NOW);
    let expiry = NOW + DEVICE_CODE_TTL_SECS;
    assert!(!grants.answer_device(&code, Some(user("alice")), expiry));
    assert_eq!(
        grants.poll_device(&late, expiry).unwrap_err(),
        TokenError::ExpiredToken
    );
}

#[test]
fn revoking_a_refresh_token_ends_its_access_tokens() {
    let grants = Grants::default();
    let first = code(&grants, &["openid", "offline_access"]);
    let issued = grants.redeem_code(&first, REDIRECT, VERIFIER, NOW).unwrap();
    let refresh = issued.refresh_token.unwrap();
    grants.revoke(&refresh);
    assert_eq!(grants.user_of(&issued.access_token, NOW), None);
    assert!(grants.refresh(&refresh, None, NOW).is_err());
    assert!(grants.user_of("nonsense", NOW).is_none());
}

#[test]
fn user_codes_are_normalized() {
    assert_eq!(normalize_user_code(" bcdf-ghjk\n"), "BCDFGHJK");
}
