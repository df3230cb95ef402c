use super::*;
use crate::caller::Caller;
use crate::profile::{AccessField, Preset, ProfileFields, ProfileStore, RuleFields, FILE_NAME};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A user who answers every question the same way, slowly, and counts them.
struct User {
    answer: Option<Answer>,
    asked: AtomicUsize,
}

impl Consent for User {
    fn ask<'a>(
        &'a self,
        _question: &'a Question,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send + 'a>> {
        Box::pin(async move {
            self.asked.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            match self.answer {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        })
    }
}

struct Fixture {
    store: ProfileStore,
    gate: Gate,
    user: Arc<User>,
    _dir: tempfile::TempDir,
}

fn fixture(access: &str, answer: Option<Answer>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join(FILE_NAME));
    let profile = Profile::from_fields(
        "p",
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some("https://idp.example".into()),
            client_id: Some("c".into()),
            scopes: Some(vec!["api.read".into()]),
            access: Some(AccessField::Mode(access.into())),
            extra_scopes: Some(vec!["api.write".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    store.add(&profile).unwrap();
    let user = Arc::new(User {
        answer,
        asked: AtomicUsize::new(0),
    });
    let gate = Gate::new(store.clone(), user.clone());
    Fixture {
        store,
        gate,
        user,
        _dir: dir,
    }
}

impl Fixture {
    fn profile(&self) -> Profile {
        self.store.get("p").unwrap()
    }

    async fn ask(&self, caller: &Caller) -> Result<Verdict, Refused> {
        let profile = self.profile();
        let scopes = profile.scopes.clone();
        self.gate
            .decide(
                Request {
                    profile: &profile,
                    action: Action::Token,
                    asked: None,
                    scopes: &scopes,
                    account: Some("alice".into()),
                },
                caller.forwarded().is_some(),
                || Some(caller.clone()),
            )
            .await
    }

    fn allow(&self, rule: RuleFields) {
        self.store
            .change_access("p", |_| {
                Ok(Access::try_from(AccessField::Rules(vec![rule])).unwrap())
            })
            .unwrap();
    }
}

/// This test process: a real process whose executable can be hashed.
fn me() -> Caller {
    Caller::of_pid(std::process::id())
}

fn exe() -> String {
    std::fs::canonicalize(std::env::current_exe().unwrap())
        .unwrap()
        .display()
        .to_string()
}

// S41: scopes outside scopes and extra_scopes are refused
#[tokio::test]
async fn scopes_outside_the_profile_are_refused() {
    let f = fixture("any", None);
    let profile = f.profile();
    let asked = |scopes: &[&str]| scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(Gate::check_scopes(&profile, None).is_ok());
    assert!(Gate::check_scopes(&profile, Some(&asked(&["api.read", "openid"]))).is_ok());
    assert!(Gate::check_scopes(&profile, Some(&asked(&["api.write"]))).is_ok());
    let refused = Gate::check_scopes(&profile, Some(&asked(&["api.read admin"]))).unwrap_err();
    assert_eq!(refused.verdict.decision, Decision::ScopeRefused);
    assert!(
        refused.error.to_string().contains("scope `admin`"),
        "{}",
        refused.error
    );
    assert_eq!(refused.error.kind(), crate::ErrorKind::Denied);
}

#[tokio::test]
async fn any_serves_every_program_without_asking() {
    let f = fixture("any", None);
    assert_eq!(f.ask(&me()).await.unwrap(), Verdict::open());
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 0);
}

// S38: an unknown program of a confirm profile is refused with the way to allow it
#[tokio::test]
async fn an_unknown_program_is_refused_with_the_command_that_allows_it() {
    let f = fixture("confirm", Some(Answer::Unasked));
    let refused = f.ask(&me()).await.unwrap_err();
    assert_eq!(refused.verdict.decision, Decision::Denied);
    let message = refused.error.to_string();
    assert!(
        message.contains(&format!("tokentray access allow p --program {}", exe())),
        "{message}"
    );
}

// S39: a rule names the executable and, with sha256, its bytes
#[tokio::test]
async fn a_rule_allows_its_program_and_its_hash_must_match() {
    let f = fixture("confirm", Some(Answer::Deny));
    let hash = fingerprint::of_file(std::path::Path::new(&exe())).unwrap();
    f.allow(RuleFields {
        program: exe(),
        sha256: Some(hash),
        ..Default::default()
    });
    let verdict = f.ask(&me()).await.unwrap();
    assert_eq!(verdict.decision, Decision::AllowedByRule);
    assert!(verdict.rule.contains(&exe()), "{}", verdict.rule);
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 0);

    // the same path with other bytes: asked again (and denied)
    f.allow(RuleFields {
        program: exe(),
        sha256: Some("0".repeat(64)),
        ..Default::default()
    });
    let refused = f.ask(&me()).await.unwrap_err();
    assert_eq!(refused.verdict.decision, Decision::Denied);
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 1);

    // another program's rule, a script rule and an expired rule do not match
    for rule in [
        RuleFields {
            program: "/usr/bin/true".into(),
            ..Default::default()
        },
        RuleFields {
            program: exe(),
            script: Some("/home/a/other.py".into()),
            ..Default::default()
        },
        RuleFields {
            program: exe(),
            until: Some("2020-01-01T00:00:00Z".into()),
            ..Default::default()
        },
    ] {
        f.allow(rule.clone());
        assert!(f.ask(&me()).await.is_err(), "{rule:?}");
    }
}

// S40: "Always" stores a rule with the binary's hash; requests of one program share one question
#[tokio::test]
async fn always_becomes_a_rule_and_concurrent_requests_share_one_question() {
    let f = fixture("confirm", Some(Answer::Always));
    let caller = me();
    let (a, b, c) = tokio::join!(f.ask(&caller), f.ask(&caller), f.ask(&caller));
    for verdict in [a, b, c] {
        assert_eq!(verdict.unwrap().decision, Decision::AllowedByUser);
    }
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 1, "one question");
    let rules = f.profile().access.rules().to_vec();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].program.display().to_string(), exe());
    assert_eq!(
        rules[0].sha256.as_deref(),
        Some(
            fingerprint::of_file(std::path::Path::new(&exe()))
                .unwrap()
                .as_str()
        )
    );
    assert_eq!(rules[0].until, None);
    assert_eq!(
        f.ask(&caller).await.unwrap().decision,
        Decision::AllowedByRule
    );
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 1, "not asked again");
}

#[tokio::test]
async fn for_hours_is_a_rule_that_ends_and_once_is_no_rule() {
    let f = fixture("confirm", Some(Answer::ForHours));
    assert_eq!(
        f.ask(&me()).await.unwrap().decision,
        Decision::AllowedByUser
    );
    let until = f.profile().access.rules()[0].until.unwrap();
    let hours = (until - crate::token::now()) as f64 / 3600.0;
    assert!((7.9..=8.0).contains(&hours), "{hours}");

    let f = fixture("confirm", Some(Answer::Once));
    assert_eq!(f.ask(&me()).await.unwrap().rule, "allowed once by the user");
    assert!(f.profile().access.rules().is_empty());
    assert!(f.ask(&me()).await.is_ok());
    assert_eq!(f.user.asked.load(Ordering::SeqCst), 2, "once is once");
}

// S40: nobody answering is a refusal after the timeout
#[tokio::test(start_paused = true)]
async fn no_answer_is_a_refusal_after_the_timeout() {
    let f = fixture("confirm", None);
    let started = tokio::time::Instant::now();
    let refused = f.ask(&me()).await.unwrap_err();
    assert_eq!(refused.verdict.decision, Decision::TimedOut);
    assert_eq!(started.elapsed(), consent::TIMEOUT);
    assert!(refused.error.to_string().contains("nobody answered"));
}
