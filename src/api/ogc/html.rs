//! The HTML encoding (OGC API – Features Part 1 "HTML" conformance class): a
//! plain page rendered from the same JSON document a client would get, so the
//! two can never disagree. Links become anchors, features become table rows.

use std::fmt::Write as _;

use serde_json::Value;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            format!("<a href=\"{0}\">{0}</a>", escape(s))
        }
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

fn links(out: &mut String, links: &[Value]) {
    out.push_str("<h2>Links</h2><ul>");
    for l in links {
        let href = l.get("href").and_then(Value::as_str).unwrap_or("");
        let rel = l.get("rel").and_then(Value::as_str).unwrap_or("");
        let title = l.get("title").and_then(Value::as_str).unwrap_or(href);
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a> <small>({})</small></li>",
            escape(href),
            escape(title),
            escape(rel)
        );
    }
    out.push_str("</ul>");
}

fn value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(map) => {
            out.push_str("<dl>");
            for (k, x) in map {
                if k == "links" || (depth == 0 && matches!(k.as_str(), "title" | "description")) {
                    continue;
                }
                let _ = write!(out, "<dt>{}</dt><dd>", escape(k));
                value(out, x, depth + 1);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            out.push_str(&parts.join(", "));
        }
        Value::Array(items) => {
            out.push_str("<ol>");
            for i in items {
                out.push_str("<li>");
                if let Some(l) = i.get("links").and_then(Value::as_array) {
                    // A collection entry: its title links to its own page.
                    let title = i
                        .get("title")
                        .or_else(|| i.get("id"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if let Some(href) = l
                        .iter()
                        .find(|x| x.get("rel").and_then(Value::as_str) == Some("self"))
                        .and_then(|x| x.get("href").and_then(Value::as_str))
                    {
                        let _ = write!(
                            out,
                            "<a href=\"{}\">{}</a>",
                            escape(&with_html(href)),
                            escape(title)
                        );
                    }
                }
                value(out, i, depth + 1);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        other => out.push_str(&scalar(other)),
    }
}

fn with_html(href: &str) -> String {
    let base = href.split('?').next().unwrap_or(href);
    format!("{base}?f=html")
}

fn features(out: &mut String, features: &[Value]) {
    out.push_str("<h2>Features</h2><table><thead><tr><th>id</th>");
    let first = features
        .first()
        .and_then(|f| f.get("properties"))
        .and_then(Value::as_object);
    let keys: Vec<&String> = first.map(|m| m.keys().collect()).unwrap_or_default();
    for k in &keys {
        let _ = write!(out, "<th>{}</th>", escape(k));
    }
    out.push_str("</tr></thead><tbody>");
    for f in features {
        let id = f
            .get("id")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default();
        let _ = write!(out, "<tr><td>{}</td>", escape(&id));
        for k in &keys {
            let v = f
                .get("properties")
                .and_then(|p| p.get(k.as_str()))
                .unwrap_or(&Value::Null);
            let _ = write!(out, "<td>{}</td>", scalar(v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// Renders a JSON document as an HTML page.
pub fn page(title: &str, doc: &Value) -> String {
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:80em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}dt{{font-weight:bold}}</style></head>\
         <body><h1>{0}</h1>",
        escape(title)
    );
    if let Some(d) = doc.get("description").and_then(Value::as_str) {
        let _ = write!(out, "<p>{}</p>", escape(d));
    }
    if let Some(l) = doc.get("links").and_then(Value::as_array) {
        links(&mut out, l);
    }
    if let Some(f) = doc.get("features").and_then(Value::as_array) {
        features(&mut out, f);
    } else if doc.get("type").and_then(Value::as_str) == Some("Feature") {
        features(&mut out, std::slice::from_ref(doc));
    } else {
        value(&mut out, doc, 0);
    }
    out.push_str("</body></html>");
    out
}
