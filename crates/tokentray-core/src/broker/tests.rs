//! The broker's rules with scripted grants and an in-memory vault: cache
//! hits, single flight, rotation persisted first, terminal errors, network
//! fallback. The same rules run against the real IdP in `tests/broker.rs`.

use super::testing::{setup, sign_in};
use super::*;
use crate::error::Error;
use crate::profile::LoginMode;
use crate::secret::Secret;
use crate::token::now;
use crate::vault::client_secret_key;

#[tokio::test]
async fn no_account_means_sign_in_required() {
    let s = setup(LoginMode::Device, false);
    let err = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::SignInRequired);
    assert_eq!(
        s.token("nope").await.unwrap_err().kind(),
        crate::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_sign_in_by_another_process_is_seen() {
    let s = setup(LoginMode::Device, false);
    assert_eq!(
        s.token("p").await.unwrap_err().kind(),
        crate::ErrorKind::SignInRequired
    );
    // Another process signs in through its own store over the same vault.
    let other = crate::account::AccountStore::new(s.vault.clone());
    let asked = ScopeSet::new(&s.profile.scopes);
    other
        .save_sign_in("p", &super::testing::token_set(0, 3600), &asked)
        .unwrap();
    assert_eq!(s.token("p").await.unwrap().token.expose(), "access-0");
}

#[tokio::test]
async fn a_valid_token_is_served_without_refreshing() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 3600);
    let token = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap()
        .token;
    assert_eq!(token.token.expose(), "access-0");
    assert_eq!(s.grants.refreshes(), 0);

    // A fresh broker over the same vault answers from the vault.
    let other = Broker::new(
        s.grants.clone(),
        s.vault.clone(),
        s.broker.profiles().clone(),
    );
    assert_eq!(
        other
            .token(&TokenRequest::for_profile("p"))
            .await
            .unwrap()
            .token
            .token
            .expose(),
        "access-0"
    );
    assert_eq!(s.grants.refreshes(), 0);
}

// S14: single-flight refresh
#[tokio::test]
async fn two_hundred_concurrent_callers_share_one_refresh() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10); // inside the 300 s margin: every caller wants a refresh
    let mut rx = s.broker.subscribe();
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let broker = s.broker.clone();
            tokio::spawn(async move { broker.token(&TokenRequest::for_profile("p")).await })
        })
        .collect();
    for call in calls {
        assert_eq!(
            call.await.unwrap().unwrap().token.token.expose(),
            "access-1"
        );
    }
    assert_eq!(s.grants.refreshes(), 1, "S14: exactly one refresh");
    assert_eq!(
        rx.recv().await.unwrap(),
        Event::Refreshing {
            profile: "p".into()
        }
    );
    assert!(matches!(rx.recv().await.unwrap(), Event::Refreshed { .. }));

    // The rotated refresh token was stored before the token went out (S15).
    let account = s.broker.accounts().for_profile("p").unwrap().unwrap();
    let record = s.broker.accounts().record(&account).unwrap().unwrap();
    assert_eq!(record.refresh_token.unwrap().expose(), "refresh-1");
}

// S16: cache keyed by scope set
#[tokio::test]
async fn tokens_for_other_scopes_are_never_handed_out() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 3600);
    let request = TokenRequest {
        scopes: Some(vec!["api.write".into()]),
        ..TokenRequest::for_profile("p")
    };
    let token = s.broker.token(&request).await.unwrap().token;
    assert_eq!(
        token.token.expose(),
        "access-1",
        "S16: a new token for the new scope set"
    );
    assert_eq!(token.scopes, vec!["api.write"]);
    assert_eq!(s.grants.refreshes(), 1);
    let default = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap()
        .token;
    assert_eq!(
        default.token.expose(),
        "access-0",
        "the first scope set keeps its own token"
    );
}

// S13: refresh rules
#[tokio::test]
async fn terminal_errors_mark_the_account_and_are_not_retried() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10);
    s.grants.set_failure(Some("invalid_grant"));
    let mut rx = s.broker.subscribe();
    let err = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::SignInRequired);
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert_eq!(s.grants.refreshes(), 1);
    assert!(matches!(rx.recv().await.unwrap(), Event::Refreshing { .. }));
    assert_eq!(
        rx.recv().await.unwrap(),
        Event::SignInRequired {
            profile: "p".into(),
            reason: "invalid_grant".into()
        }
    );
    // No retry loop: later calls fail at once without asking the provider.
    for _ in 0..3 {
        assert_eq!(
            s.token("p").await.unwrap_err().kind(),
            crate::ErrorKind::SignInRequired
        );
    }
    assert_eq!(s.grants.refreshes(), 1);
}

// S13: refresh rules
#[tokio::test]
async fn network_errors_are_retried_then_the_cached_token_is_served() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 100); // valid, but inside the margin
    s.grants.set_failure(Some("network"));
    let token = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap()
        .token;
    assert_eq!(
        token.token.expose(),
        "access-0",
        "still valid, so still served"
    );
    assert_eq!(s.grants.refreshes(), 3, "bounded retries");

    // Once expired, the network error comes through.
    let s = setup(LoginMode::Device, false);
    sign_in(&s, -1);
    s.grants.set_failure(Some("network"));
    assert_eq!(
        s.token("p").await.unwrap_err().kind(),
        crate::ErrorKind::Network
    );
}

// S15: crash-safe rotation
#[tokio::test]
async fn a_failed_vault_write_hands_out_nothing() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10);
    s.vault.entries().fail_writes_after(0);
    let err = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        crate::ErrorKind::VaultUnavailable,
        "S15: no token without the stored rotation"
    );
}

// S15: a rotation the vault refused is kept in memory and used next; the
// retired refresh token is never sent again.
#[tokio::test]
async fn a_refused_rotation_is_kept_and_used_once_the_vault_takes_it() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10);
    let mut rx = s.broker.subscribe();
    s.vault.entries().fail_writes_after(0);
    let err = s.token("p").await.unwrap_err();
    assert!(matches!(err, Error::RotationNotStored { .. }), "{err}");
    assert_eq!(err.kind(), crate::ErrorKind::VaultUnavailable);
    assert_eq!(s.grants.refreshes(), 1);
    let mut seen = Vec::new();
    while let Ok(event) = rx.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::VaultWriteFailed { profile, .. } if profile == "p")),
        "{seen:?}"
    );
    // Still refused: the caller gets the error, nothing is sent again.
    assert!(s.token("p").await.is_err());
    assert_eq!(s.grants.refreshes(), 1, "no replay of the retired token");
    // The vault takes writes again: the kept record is stored and served.
    s.vault.entries().fail_writes_after(usize::MAX);
    let served = s.token("p").await.unwrap();
    assert_eq!(served.token.expose(), "access-1");
    assert_eq!(s.grants.refreshes(), 1, "served from the kept rotation");
    let account = s.broker.accounts().for_profile("p").unwrap().unwrap();
    let record = s.broker.accounts().record(&account).unwrap().unwrap();
    assert_eq!(record.refresh_token.unwrap().expose(), "refresh-1");
}

// S15: the background writer stores a refused rotation without a caller.
#[tokio::test]
async fn a_refused_rotation_is_written_in_the_background() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10);
    s.vault.entries().fail_writes_after(0);
    assert!(s.token("p").await.is_err());
    s.vault.entries().fail_writes_after(usize::MAX);
    let account = s.broker.accounts().for_profile("p").unwrap().unwrap();
    let stored = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let record = s.broker.accounts().record(&account).unwrap().unwrap();
            if record.refresh_token.as_ref().map(|t| t.expose()) == Some("refresh-1") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(stored.is_ok(), "the rotated record reached the vault");
    assert_eq!(s.token("p").await.unwrap().token.expose(), "access-1");
    assert_eq!(s.grants.refreshes(), 1);
}

// A sign-out waits for the refresh in flight, then revokes the token that
// refresh rotated in, and nothing of the account is left in the vault.
#[tokio::test]
async fn sign_out_waits_for_a_refresh_in_flight_and_revokes_its_token() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 10);
    s.grants.set_slow(Duration::from_millis(300));
    let refreshing = {
        let broker = s.broker.clone();
        tokio::spawn(async move { broker.token(&TokenRequest::for_profile("p")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(s.broker.activity("p").refreshing);
    let signed_out = s.broker.sign_out("p").await.unwrap();
    assert!(signed_out.is_some());
    assert!(refreshing.await.unwrap().is_ok(), "the refresh ended first");
    assert_eq!(s.grants.revoked(), vec!["refresh-1".to_string()]);
    assert!(s
        .vault
        .entries()
        .snapshot()
        .iter()
        .all(|(name, _)| name == "accounts"));
    assert_eq!(s.broker.activity("p"), Activity::default());
}

// The answer says which account served.
#[tokio::test]
async fn the_answer_names_the_account_that_served() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 3600);
    let served = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap();
    assert_eq!(served.profile, "p");
    let account = served.account.unwrap();
    assert_eq!(account.label, "alice");
    assert_eq!(account.subject, "alice");
    assert_eq!(account.issuer, "https://idp.example");
}

// S9: client secrets in the vault
#[tokio::test]
async fn client_credentials_use_the_vault_secret_and_cache_in_memory() {
    let s = setup(LoginMode::ClientCredentials, false);
    let err = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        crate::ErrorKind::NotFound,
        "no secret yet: {err}"
    );
    s.vault
        .put(&client_secret_key("p"), &Secret::new("client-secret"))
        .unwrap();
    let first = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap()
        .token;
    let second = s
        .broker
        .token(&TokenRequest::for_profile("p"))
        .await
        .unwrap()
        .token;
    assert_eq!(first.token, second.token);
    assert_eq!(s.grants.refreshes(), 1);
}

// S22: vault entries and sign-out
#[tokio::test]
async fn sign_out_deletes_everything() {
    let s = setup(LoginMode::Device, false);
    sign_in(&s, 3600);
    assert!(s.broker.sign_out("p").await.unwrap().is_some());
    assert!(s
        .vault
        .entries()
        .snapshot()
        .iter()
        .all(|(k, _)| k == "accounts"));
    assert_eq!(
        s.token("p").await.unwrap_err().kind(),
        crate::ErrorKind::SignInRequired
    );
}

// S24, S13: a record deleted behind the broker's back is "sign-in required"
// naming the missing entry (not "the provider gave no refresh token"), and
// nothing is asked of the provider.
#[tokio::test]
async fn a_deleted_record_needs_a_sign_in_and_asks_the_provider_nothing() {
    let s = setup(LoginMode::Device, false);
    let account = sign_in(&s, 1);
    s.vault.delete(&account.record_key()).unwrap();
    let err = s.token("p").await.unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::SignInRequired);
    assert!(err.to_string().contains("missing from the vault"), "{err}");
    assert_eq!(s.grants.refreshes(), 0);
}

// S24: a damaged record is reported with a fix that names the profile and
// is left as it is.
#[tokio::test]
async fn a_damaged_record_is_reported_and_left_as_is() {
    let s = setup(LoginMode::Device, false);
    let account = sign_in(&s, 1);
    let damaged = Secret::new("{\"refresh_token\": ");
    s.vault.put(&account.record_key(), &damaged).unwrap();
    let err = s.token("p").await.unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::VaultCorrupt);
    assert!(err.to_string().contains("`tokentray login p`"), "{err}");
    assert_eq!(s.vault.get(&account.record_key()).unwrap(), Some(damaged));
    assert_eq!(s.grants.refreshes(), 0);
}

// S14: a planned refresh at the same deadline as a caller's refresh makes
// no second request: the new token is fresh at the planned instant.
#[tokio::test]
async fn a_planned_refresh_after_a_callers_refresh_makes_no_second_request() {
    let s = setup(LoginMode::Device, true);
    sign_in(&s, 10);
    let due = now();
    let by_caller = s.token("p").await.unwrap();
    assert_eq!(s.grants.refreshes(), 1);
    let planned = s.broker.refresh_due("p", due).await.unwrap();
    assert_eq!(s.grants.refreshes(), 1, "one refresh for one deadline");
    assert_eq!(planned.token.token.expose(), by_caller.token.expose());

    // Nobody refreshed before the next planned instant: it refreshes.
    sign_in(&s, 10);
    let s2 = Broker::new(
        s.grants.clone(),
        s.vault.clone(),
        s.broker.profiles().clone(),
    );
    s2.refresh_due("p", now()).await.unwrap();
    assert_eq!(s.grants.refreshes(), 2);
}
