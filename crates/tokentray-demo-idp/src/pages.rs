//! The provider's HTML: the login page of a sign-in, the device
//! verification page, and the pages that end them. No script, inline style
//! only (the server's CSP loads nothing); every value is escaped.

use tokentray_core::html::escape;

use crate::client::{PASSWORD, USERS};

const STYLE: &str = "body{font:15px system-ui,sans-serif;max-width:26em;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.3em}label{display:block;margin:.8em 0 .2em}input{width:100%;padding:.4em;box-sizing:border-box}\
button{margin:1em .5em 0 0;padding:.4em 1.2em}.hint{background:#eef4ff;padding:.6em;border-radius:4px}\
.error{color:#a00;font-weight:bold}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    )
}

fn hint() -> String {
    format!(
        "<p class=\"hint\">Demo users: <b>{}</b>. Password: <b>{}</b></p>",
        USERS.join("</b>, <b>"),
        PASSWORD
    )
}

fn error_line(error: Option<&str>) -> String {
    error.map_or_else(String::new, |error| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error))
    })
}

fn credentials(login: &str, autofocus: bool) -> String {
    let focus = if autofocus { " autofocus" } else { "" };
    format!(
        "<label for=\"login\">User</label>\
         <input id=\"login\" name=\"login\" value=\"{}\" autocomplete=\"username\" required{focus}>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>",
        escape(login)
    )
}

/// The login page of the sign-in `page` (its id is the form's only
/// reference to the authorization request).
pub fn login(page_id: &str, login: &str, error: Option<&str>) -> String {
    page(
        "Sign in to the Tokentray demo",
        &format!(
            "{}{}<form method=\"post\" action=\"/authorize\">\
             <input type=\"hidden\" name=\"page\" value=\"{}\">{}\
             <button type=\"submit\" name=\"action\" value=\"login\">Sign in</button>\
             <button type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button></form>",
            hint(),
            error_line(error),
            escape(page_id),
            credentials(login, true)
        ),
    )
}

/// The device verification page: the code (filled in from the link when
/// it carries one), who signs in, approve or decline.
pub fn device(user_code: &str, login: &str, error: Option<&str>) -> String {
    page(
        "Sign in a device to the Tokentray demo",
        &format!(
            "<p>Enter the code Tokentray shows, then sign in to approve it.</p>{}{}\
             <form method=\"post\" action=\"/device\"><label for=\"user_code\">Code</label>\
             <input id=\"user_code\" name=\"user_code\" value=\"{}\" autocomplete=\"off\" required{}>{}\
             <button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
             <button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Decline</button></form>",
            hint(),
            error_line(error),
            escape(user_code),
            if user_code.is_empty() { " autofocus" } else { "" },
            credentials(login, !user_code.is_empty())
        ),
    )
}

/// A page that ends a flow: what happened, and what to do now.
pub fn message(title: &str, text: &str) -> String {
    page(title, &format!("<p>{}</p>", escape(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_hint_is_shown() {
        let html = login("id\"><script>", "<b>x</b>", Some("bad & worse"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("id&quot;&gt;&lt;script&gt;"));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains("bad &amp; worse"));
        assert!(html.contains("Password: <b>demo</b>"));
        assert!(html.contains("<b>alice</b>"));
        let device = device("BCDF-GHJK", "", None);
        assert!(device.contains("value=\"BCDF-GHJK\""));
        assert!(message("Done", "a < b").contains("a &lt; b"));
    }
}
