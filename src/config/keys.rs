//! Turns TOML deserialisation errors into messages that name the file, the
//! line and column, and, for an unknown key or value, the nearest valid one.

use std::path::Path;

use super::{ConfigError, UnknownKey};

/// 1-based line and column of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The nearest table header (`[lookups.rural_urban]`, `[[asset_sources]]`)
/// at or before `offset`.
fn section(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']') && !l.contains(['=', ',', '"']))
        .map(str::to_owned)
}

/// The names serde quotes in backticks: for `unknown field `x`, expected one
/// of `a`, `b`` the first is the key found and the rest are the valid ones.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `found` by edit distance (first on ties).
pub(super) fn nearest<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .min_by_key(|c| edit_distance(found, c))
        .copied()
}

/// A [`ConfigError`] for a failed TOML deserialisation of `text`.
pub(super) fn parse_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim_end();
    let span = e.span();
    let (line, column) = span.as_ref().map_or((0, 0), |s| line_column(text, s.start));
    let names = backticked(message);
    if let (Some((found, valid)), Some(span)) = (names.split_first(), span.as_ref()) {
        if message.starts_with("unknown field") {
            if let Some(best) = nearest(found, valid) {
                return ConfigError::UnknownKey(Box::new(UnknownKey {
                    path: path.to_owned(),
                    line,
                    column,
                    key: (*found).to_owned(),
                    section: section(text, span.start),
                    nearest: best.to_owned(),
                    valid: valid.join(", "),
                }));
            }
        }
        if message.starts_with("unknown variant") {
            if let Some(best) = nearest(found, valid) {
                return ConfigError::Parse {
                    path: path.to_owned(),
                    message: format!("line {line}, column {column}: {message}; the nearest valid value is '{best}'"),
                };
            }
        }
    }
    let message = match span {
        Some(_) => format!("line {line}, column {column}: {message}"),
        None => message.to_owned(),
    };
    ConfigError::Parse {
        path: path.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::{backticked, edit_distance, line_column, nearest, section};

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance("dedupe_within", "dedupe_within_m"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest_key_and_names_from_serde_message() {
        let m = "unknown field `dedupe_within`, expected one of `id`, `path`, `dedupe_within_m`";
        let names = backticked(m);
        assert_eq!(names, ["dedupe_within", "id", "path", "dedupe_within_m"]);
        assert_eq!(nearest(names[0], &names[1..]), Some("dedupe_within_m"));
    }

    #[test]
    fn positions_and_sections() {
        let text = "a = 1\n[[asset_sources]]\nid = \"x\"\nbad = 2\n";
        let offset = text.find("bad").unwrap_or_default();
        assert_eq!(line_column(text, offset), (4, 1));
        assert_eq!(section(text, offset).as_deref(), Some("[[asset_sources]]"));
        assert_eq!(section(text, 2), None);
    }
}
