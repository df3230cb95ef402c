//! Just enough HTML reading to submit the IdP's own forms: `<form>` tags, the
//! `<input>`s inside them, attribute values with their entities decoded.
//!
//! The pages come from our own `oidc-provider`, so this reads well-formed,
//! known markup; it is not a general HTML parser.

/// One `<form>` of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub(crate) action: Option<String>,
    pub(crate) method: String,
    pub(crate) id: Option<String>,
    pub(crate) inputs: Vec<Input>,
}

/// One named `<input>` of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) value: String,
}

/// Every form of `page`, in document order.
pub(crate) fn forms(page: &str) -> Vec<Form> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower`
    // index `page` too.
    let lower = page.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = find_tag(&lower, "form", from) {
        let (attributes, after_tag) = tag_attributes(page, start + "<form".len());
        let end = lower[after_tag..]
            .find("</form")
            .map_or(page.len(), |offset| after_tag + offset);
        let inputs = inputs(&page[after_tag..end], &lower[after_tag..end]);
        found.push(Form {
            action: attribute(&attributes, "action"),
            method: attribute(&attributes, "method")
                .unwrap_or_else(|| "get".to_owned())
                .to_ascii_lowercase(),
            id: attribute(&attributes, "id"),
            inputs,
        });
        from = end.max(after_tag);
    }
    found
}

/// The text of the page with tags removed and whitespace collapsed, for
/// error messages.
pub(crate) fn text(page: &str) -> String {
    let without_blocks = strip_blocks(page, "style");
    let without_blocks = strip_blocks(&without_blocks, "script");
    let mut out = String::new();
    let mut in_tag = false;
    for c in without_blocks.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip_blocks(page: &str, tag: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let mut out = String::new();
    let mut from = 0;
    while let Some(start) = find_tag(&lower, tag, from) {
        out.push_str(&page[from..start]);
        let close = format!("</{tag}");
        from = match lower[start..].find(&close) {
            Some(offset) => {
                let close_at = start + offset;
                lower[close_at..]
                    .find('>')
                    .map_or(page.len(), |gt| close_at + gt + 1)
            }
            None => page.len(),
        };
    }
    out.push_str(&page[from..]);
    out
}

fn inputs(fragment: &str, lower: &str) -> Vec<Input> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = find_tag(lower, "input", from) {
        let (attributes, after_tag) = tag_attributes(fragment, start + "<input".len());
        if let Some(name) = attribute(&attributes, "name") {
            found.push(Input {
                name,
                kind: attribute(&attributes, "type")
                    .unwrap_or_else(|| "text".to_owned())
                    .to_ascii_lowercase(),
                value: attribute(&attributes, "value").unwrap_or_default(),
            });
        }
        from = after_tag;
    }
    found
}

/// Byte offset of the next `<tag` (followed by whitespace, `>` or `/`) at or
/// after `from`, in an already lower-cased page.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut at = from;
    while let Some(offset) = lower.get(at..)?.find(&needle) {
        let start = at + offset;
        let next = lower[start + needle.len()..].chars().next();
        if matches!(next, Some(c) if c.is_ascii_whitespace() || c == '>' || c == '/') {
            return Some(start);
        }
        at = start + needle.len();
    }
    None
}

/// Attributes of a tag whose name ends at `from`, and the offset just past
/// its closing `>`.
fn tag_attributes(page: &str, from: usize) -> (Vec<(String, String)>, usize) {
    let bytes = page.as_bytes();
    let mut attributes = Vec::new();
    let mut i = from;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return (attributes, bytes.len());
        }
        if bytes[i] == b'>' {
            return (attributes, i + 1);
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = page[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                let quote = bytes[i];
                let value_start = i + 1;
                let value_end = bytes[value_start..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(bytes.len(), |offset| value_start + offset);
                value = decode_entities(&page[value_start..value_end]);
                i = (value_end + 1).min(bytes.len());
            } else {
                let value_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&page[value_start..i]);
            }
        }
        if !name.is_empty() {
            attributes.push((name, value));
        }
    }
}

fn attribute(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_inputs_and_entities() {
        let page = r#"<html><body>
            <FORM autocomplete="off" action="/interaction/a&amp;b/login" method=POST>
              <input type="hidden" name="prompt" value="login"/>
              <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
              <input
                value="AB&#x2D;CD" type="text" name="user_code"></input>
              <button type="submit" name="abort" value="yes">x</button>
            </form>
            <form id="second"><input name='x' value='1'></form>"#;
        let forms = forms(page);
        assert_eq!(forms.len(), 2);
        assert_eq!(forms[0].action.as_deref(), Some("/interaction/a&b/login"));
        assert_eq!(forms[0].method, "post");
        let names: Vec<_> = forms[0].inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["prompt", "login", "user_code"]);
        assert_eq!(forms[0].inputs[0].kind, "hidden");
        assert_eq!(forms[0].inputs[2].value, "AB-CD");
        assert_eq!(forms[1].id.as_deref(), Some("second"));
        assert_eq!(forms[1].method, "get");
        assert_eq!(forms[1].inputs[0].value, "1");
    }

    #[test]
    fn text_drops_tags_styles_and_scripts() {
        let page = "<head><style>p{x:1}</style></head><body><pre>error: invalid_request</pre>\
                    <script>var a = 1 < 2;</script><p>a &amp; b</p></body>";
        assert_eq!(text(page), "error: invalid_request a & b");
    }

    #[test]
    fn unknown_entities_are_left_alone() {
        assert_eq!(decode_entities("a &bogus; & b&#65;"), "a &bogus; & bA");
    }
}
