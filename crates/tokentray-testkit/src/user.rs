//! Acting as the user in the IdP's pages: a cookie-keeping HTTP client that
//! follows the IdP's redirects by hand, fills the development login form and
//! the consent form, and stops at the client's redirect URI without ever
//! connecting to it.

use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::LOCATION;
use url::Url;

use crate::error::{Error, Result};
use crate::html::{self, Form};
use crate::idp::Idp;

/// Password typed into the development login form (any is accepted).
const PASSWORD: &str = "tokentray-test-password";
/// Pages and redirects one sign-in may take before we call it a loop.
const MAX_STEPS: usize = 30;

enum Step {
    Get(Url),
    Post(Url, Vec<(String, String)>),
}

enum Outcome {
    /// The IdP redirected to the stop URL.
    Redirect(Url),
    /// A page with no form to submit.
    Page { url: Url, body: String },
}

/// What to type into the forms met on the way.
struct Typing<'a> {
    login: &'a str,
    user_code: Option<&'a str>,
}

impl Idp {
    /// Signs in as `login` (any name; it becomes `sub` and
    /// `preferred_username`) on the authorize URL a client built, consents,
    /// and returns the redirect URL carrying `code`, `state` and `iss` (or
    /// `error`). Nothing connects to the redirect URI.
    pub fn sign_in(&self, authorize_url: &str, login: &str) -> Result<String> {
        let start = Url::parse(authorize_url)?;
        let redirect_uri = start
            .query_pairs()
            .find(|(key, _)| key == "redirect_uri")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(|| {
                Error::new(format!(
                    "the authorize URL has no redirect_uri: {authorize_url}"
                ))
            })?;
        let agent = user_agent()?;
        let typing = Typing {
            login,
            user_code: None,
        };
        match browse(&agent, Step::Get(start), Some(&redirect_uri), &typing)? {
            Outcome::Redirect(url) => Ok(url.into()),
            Outcome::Page { url, body } => Err(Error::new(format!(
                "sign-in stopped at {url} instead of redirecting to {redirect_uri}: {}",
                excerpt(&body)
            ))),
        }
    }

    /// [`Idp::sign_in`], then a GET on the redirect URL, as a browser would
    /// do for a client waiting on a loopback listener. Returns that
    /// response's HTTP status.
    pub fn sign_in_and_follow(&self, authorize_url: &str, login: &str) -> Result<u16> {
        let redirect = self.sign_in(authorize_url, login)?;
        let response = user_agent()?.get(&redirect).send()?;
        Ok(response.status().as_u16())
    }

    /// Approves a device authorization (RFC 8628) as `login`: opens the
    /// verification page, enters `user_code`, confirms, signs in and
    /// consents.
    pub fn approve_device(&self, user_code: &str, login: &str) -> Result<()> {
        let start = Url::parse(&self.url("/device"))?;
        let agent = user_agent()?;
        let typing = Typing {
            login,
            user_code: Some(user_code),
        };
        match browse(&agent, Step::Get(start), None, &typing)? {
            Outcome::Page { body, .. } if body.contains("Sign-in Success") => Ok(()),
            Outcome::Page { url, body } => Err(Error::new(format!(
                "device approval ended at {url} without success: {}",
                excerpt(&body)
            ))),
            Outcome::Redirect(url) => Err(Error::new(format!(
                "device approval redirected away to {url}"
            ))),
        }
    }
}

fn user_agent() -> Result<Client> {
    Ok(Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?)
}

fn browse(agent: &Client, first: Step, stop_at: Option<&str>, typing: &Typing) -> Result<Outcome> {
    let mut step = first;
    let mut trail = Vec::new();
    for _ in 0..MAX_STEPS {
        let (url, response) = send(agent, &step)?;
        trail.push(format!("{} {url}", step_method(&step)));
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| Error::new(format!("{url}: HTTP {status} without Location")))?;
            let next = url.join(location)?;
            if stop_at.is_some_and(|stop| is_redirect_target(&next, stop)) {
                return Ok(Outcome::Redirect(next));
            }
            step = Step::Get(next);
            continue;
        }
        let body = response.text()?;
        if !status.is_success() {
            return Err(Error::new(format!(
                "{url}: HTTP {status}: {}",
                excerpt(&body)
            )));
        }
        if let Some(message) = error_on_page(&body) {
            return Err(Error::new(format!("{url}: the IdP says: {message}")));
        }
        let Some(form) = pick_form(&body) else {
            return Ok(Outcome::Page { url, body });
        };
        let action = match form.action.as_deref() {
            Some(action) if !action.is_empty() => url.join(action)?,
            _ => url.clone(),
        };
        if let Some(stop) = stop_at {
            if is_redirect_target(&action, stop) {
                return Err(Error::new(format!(
                    "the IdP answers with a form posted to {action} (response_mode=form_post?); \
                     sign_in supports query responses only"
                )));
            }
        }
        let fields = fill(&form, typing)?;
        step = if form.method == "post" {
            Step::Post(action, fields)
        } else {
            let mut target = action;
            target.query_pairs_mut().extend_pairs(&fields);
            Step::Get(target)
        };
    }
    Err(Error::new(format!(
        "gave up after {MAX_STEPS} pages and redirects:\n{}",
        trail.join("\n")
    )))
}

fn send(agent: &Client, step: &Step) -> Result<(Url, Response)> {
    match step {
        Step::Get(url) => Ok((url.clone(), agent.get(url.clone()).send()?)),
        Step::Post(url, fields) => Ok((url.clone(), agent.post(url.clone()).form(fields).send()?)),
    }
}

fn step_method(step: &Step) -> &'static str {
    match step {
        Step::Get(_) => "GET",
        Step::Post(..) => "POST",
    }
}

/// Whether `url` is the client's redirect URI (plus its response parameters).
fn is_redirect_target(url: &Url, redirect_uri: &str) -> bool {
    if let Some(rest) = url.as_str().strip_prefix(redirect_uri) {
        if rest.is_empty() || rest.starts_with(['?', '#', '&']) {
            return true;
        }
    }
    Url::parse(redirect_uri).is_ok_and(|expected| {
        expected.scheme() == url.scheme()
            && expected.host_str() == url.host_str()
            && expected.port_or_known_default() == url.port_or_known_default()
            && expected.path() == url.path()
    })
}

/// The form a user would submit: the first POST form, else the first form.
fn pick_form(body: &str) -> Option<Form> {
    let forms = html::forms(body);
    forms
        .iter()
        .find(|form| form.method == "post")
        .or_else(|| forms.first())
        .cloned()
}

fn fill(form: &Form, typing: &Typing) -> Result<Vec<(String, String)>> {
    let mut fields = Vec::new();
    for input in &form.inputs {
        let value = match (input.name.as_str(), input.kind.as_str()) {
            (_, "submit" | "button" | "image" | "reset" | "checkbox" | "radio") => continue,
            ("login" | "username" | "email", _) => typing.login.to_owned(),
            (_, "password") => PASSWORD.to_owned(),
            ("user_code", _) if input.value.is_empty() => typing
                .user_code
                .ok_or_else(|| Error::new("the IdP asks for a user code, but none was given"))?
                .to_owned(),
            _ => input.value.clone(),
        };
        fields.push((input.name.clone(), value));
    }
    Ok(fields)
}

/// An error the IdP shows on an otherwise successful page: its error page,
/// or the device flow's red message above the user-code form.
fn error_on_page(body: &str) -> Option<String> {
    if body.contains("<pre id=\"error\">") || body.contains("oops! something went wrong") {
        return Some(excerpt(body));
    }
    let start = body.find("<p class=\"red\">")?;
    let end = body[start..]
        .find("</p>")
        .map_or(body.len(), |end| start + end);
    Some(html::text(&body[start..end]))
}

fn excerpt(body: &str) -> String {
    let text = html::text(body);
    match text.char_indices().nth(600) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_target_matches_same_origin_and_path_only() {
        let stop = "http://127.0.0.1:4567/callback";
        let hit = |u: &str| Url::parse(u).is_ok_and(|url| is_redirect_target(&url, stop));
        assert!(hit("http://127.0.0.1:4567/callback?code=x&state=y"));
        assert!(!hit("http://127.0.0.1:4568/callback?code=x"));
        assert!(!hit("http://127.0.0.1:4567/callbackx"));
        assert!(!hit("http://127.0.0.1:9999/auth/abc"));
    }

    #[test]
    fn fills_login_and_keeps_hidden_fields() {
        let page = r#"<form action="/i/1" method="post"><input type="hidden" name="prompt" value="login"/>
            <input type="text" name="login"><input type="password" name="password"></form>"#;
        let form = pick_form(page).expect("a form");
        let typing = Typing {
            login: "alice",
            user_code: None,
        };
        let fields = fill(&form, &typing).expect("filled");
        assert_eq!(
            fields,
            [
                ("prompt".to_owned(), "login".to_owned()),
                ("login".to_owned(), "alice".to_owned()),
                ("password".to_owned(), PASSWORD.to_owned()),
            ]
        );
    }
}
