//! The one client the demo provider knows and its users: the public native
//! client `tokentray-public` (no secret, PKCE required) with the loopback
//! redirect URIs `tests/idp` registers for it (RFC 8252 §7.3: any port,
//! the exact path), and three demo users sharing one published password.

use url::Url;

/// The demo client's id (the one of `tests/idp`'s public client).
pub const CLIENT_ID: &str = "tokentray-public";
/// The demo users' logins.
pub const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// The demo users' password, shown on the login page: the demo protects
/// nothing.
pub const PASSWORD: &str = "demo";

/// The scopes the client may ask for.
pub const SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "api.read",
    "api.write",
];

/// A demo user's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub login: &'static str,
    pub name: String,
    pub email: String,
}

/// The user `login` names, if it is a demo user and `password` is right.
pub fn authenticate(login: &str, password: &str) -> Option<User> {
    let login = login.trim();
    let known = USERS
        .into_iter()
        .find(|user| user.eq_ignore_ascii_case(login))?;
    (password == PASSWORD).then(|| user(known))
}

/// The claims of a known demo login.
pub fn user(login: &'static str) -> User {
    let mut name = login.to_owned();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    User {
        login,
        name: format!("{name} Demo"),
        email: format!("{login}@example.test"),
    }
}

/// Whether `redirect_uri` is one of the client's: `http` to 127.0.0.1 or
/// `[::1]`, any port, path `/callback` or `/`, no query, fragment or
/// credentials.
pub fn redirect_allowed(redirect_uri: &str) -> bool {
    let Ok(url) = Url::parse(redirect_uri) else {
        return false;
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]"));
    url.scheme() == "http"
        && loopback
        && matches!(url.path(), "/callback" | "/")
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// The requested scopes, if the client may have them all.
pub fn scopes(requested: &str) -> Option<Vec<String>> {
    let scopes: Vec<String> = requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    scopes
        .iter()
        .all(|scope| SCOPES.contains(&scope.as_str()))
        .then_some(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // S43: the demo provider: registered loopback redirects only
    #[test]
    fn only_the_registered_loopback_redirects_are_allowed() {
        for good in [
            "http://127.0.0.1/callback",
            "http://127.0.0.1:49152/callback",
            "http://127.0.0.1:8080/",
            "http://[::1]:1234/callback",
        ] {
            assert!(redirect_allowed(good), "{good}");
        }
        for bad in [
            "https://127.0.0.1/callback",
            "http://localhost/callback",
            "http://127.0.0.2/callback",
            "http://evil.example/callback",
            "http://127.0.0.1/callback/x",
            "http://127.0.0.1/other",
            "http://127.0.0.1/callback?x=1",
            "http://127.0.0.1/callback#f",
            "http://user@127.0.0.1/callback",
            "tokentray://callback",
            "not a url",
        ] {
            assert!(!redirect_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn demo_users_need_the_demo_password() {
        let alice = authenticate(" Alice ", PASSWORD).unwrap();
        assert_eq!(alice.login, "alice");
        assert_eq!(alice.name, "Alice Demo");
        assert_eq!(alice.email, "alice@example.test");
        assert_eq!(authenticate("alice", "wrong"), None);
        assert_eq!(authenticate("mallory", PASSWORD), None);
        assert_eq!(authenticate("", ""), None);
    }

    #[test]
    fn unknown_scopes_are_refused() {
        assert_eq!(
            scopes("openid  api.read"),
            Some(vec!["openid".to_owned(), "api.read".to_owned()])
        );
        assert_eq!(scopes("openid admin"), None);
        assert_eq!(scopes(""), Some(Vec::new()));
    }
}
